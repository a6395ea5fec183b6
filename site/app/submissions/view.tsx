/**
 * /submissions: every uploaded submission with its status — pending (uploaded, not yet
 * re-run), verified (a maintainer's `middlepath verify` reproduced the claim) or rejected
 * (with the reason). Reads the submission tables read-only; shared by the live page and
 * the static export.
 */
import type { Metadata } from 'next';
import type { ClaimEntry } from '../../../harness/submit/bundle.ts';
import { openSubmissionDb, type SubmissionDb, type SubmissionSummary } from '../../../harness/submit/db.ts';
import { date, sig } from '../../lib/format.ts';
import { storeLocation } from '../../lib/store.ts';
import { type SubmissionFigure, submissionFigures } from '../../lib/submissions.ts';

export const metadata: Metadata = { title: 'submissions' };

type Listing = { ok: true; submissions: SubmissionSummary[] } | { ok: false; reason: string; where: string };

// One read-only connection per server process, as site/lib/store.ts keeps for the runs.
const KEY = Symbol.for('middlepath.site.submissions');
type Holder = { [KEY]?: Promise<SubmissionDb> };

export async function listSubmissions(): Promise<Listing> {
  const loc = storeLocation();
  const holder = globalThis as Holder;
  let p = holder[KEY];
  if (!p) {
    p = openSubmissionDb({ ...(loc.url ? { url: loc.url } : { sqlitePath: loc.sqlitePath }), readonly: true });
    holder[KEY] = p;
    p.catch(() => {
      if (holder[KEY] === p) delete holder[KEY]; // retried on the next request
    });
  }
  try {
    return { ok: true, submissions: await (await p).listSubmissions() };
  } catch (e) {
    return { ok: false, reason: (e as Error).message, where: loc.where };
  }
}

const STATUS_TEXT: Record<SubmissionSummary['status'], string> = {
  pending: 'pending — uploaded, not yet re-run by a maintainer',
  verified: 'verified — a maintainer re-ran it and the results lie within the claim; the figures shown are the re-run’s',
  rejected: 'rejected',
};

const STATUS_COLOR: Record<SubmissionSummary['status'], string> = { pending: '#9498a0', verified: '#3ca951', rejected: '#d03c3c' };

function Claim({ c }: { c: ClaimEntry }) {
  if (c.mean === null) return <span className="muted">no completed run</span>;
  const unit = c.metric.unit ? ` ${c.metric.unit}` : '';
  return (
    <span className="iv">
      {sig(c.mean)}
      {unit}{' '}
      <span className="ci">
        [{sig(c.lo ?? c.mean)}, {sig(c.hi ?? c.mean)}] n={c.values.length}
      </span>
    </span>
  );
}

/** One task's figures: the re-run's (measured) first where there is one, the claim labelled as such. */
function Figures({ f }: { f: SubmissionFigure }) {
  const unit = f.metric.unit ? ` ${f.metric.unit}` : '';
  const m = f.measured;
  return (
    <li data-task={f.task}>
      {f.task}, {f.metric.name}:{' '}
      {m === null ? (
        <span data-figure="claimed">
          claimed <Claim c={f.claimed} /> <span className="muted small">(not yet re-run)</span>
        </span>
      ) : (
        <>
          <span data-figure="measured">
            {m.mean === null ? (
              <span className="muted">no completed re-run</span>
            ) : (
              <>
                {sig(m.mean)}
                {unit}
              </>
            )}{' '}
            <span className="muted small">
              re-run{m.variant ? ' on a held-out variant' : ''}, n={m.values.length}
            </span>
          </span>
          <div className="muted small" data-figure="claimed">
            claimed: <Claim c={f.claimed} />
          </div>
        </>
      )}
    </li>
  );
}

/** One submission's row of the table. */
export function SubmissionRow({ s }: { s: SubmissionSummary }) {
  return (
    <tr data-submission={s.id} data-status={s.status}>
      <td>
        <strong>{s.name}</strong>
        <div className="muted small">
          <code>{s.id}</code>
        </div>
      </td>
      <td>{s.family}</td>
      <td>
        {s.tier} · {s.hardwareClass}
      </td>
      <td>
        <ul className="claims">
          {submissionFigures(s).map((f) => (
            <Figures key={f.task} f={f} />
          ))}
        </ul>
      </td>
      <td>
        <span
          className="badge"
          style={{ borderColor: STATUS_COLOR[s.status], color: STATUS_COLOR[s.status] }}
          title={STATUS_TEXT[s.status]}
        >
          {s.status}
        </span>
        {s.verification?.variant && <div className="muted small">re-run on a held-out variant</div>}
        {s.reason && <div className="small submission-reason">{s.reason}</div>}
      </td>
      <td>
        {date(s.createdAt)}
        {s.uploadedBy && <div className="muted small">by {s.uploadedBy}</div>}
      </td>
    </tr>
  );
}

export default async function SubmissionsPage() {
  const listing = await listSubmissions();
  return (
    <article>
      <h1>Submissions</h1>
      <p className="lede">
        Architectures submitted with <code>npx middlepath submit</code>. A submission stays <em>pending</em> until a maintainer re-runs it
        with <code>npx middlepath verify</code>, in a child process with time and memory limits, on the same tier and seeds (and, at will,
        on held-out variants of the synthetic tasks); it is <em>verified</em> when every re-run lands within the claimed seeds’ 95%
        interval, else <em>rejected</em> with the reason. The figures shown are the maintainer’s re-run’s, measured by the harness; the
        submitter’s own are labelled <em>claimed</em>. This site never runs submitted code.
      </p>
      {!listing.ok ? (
        <p className="note" id="submissions-unavailable">
          {/no store|does not exist|no tables/.test(listing.reason)
            ? 'No submissions yet.'
            : `The submissions cannot be read: ${listing.reason}`}
        </p>
      ) : listing.submissions.length === 0 ? (
        <p className="note" id="no-submissions">
          No submissions yet.
        </p>
      ) : (
        <div className="table-wrap">
          <table id="submissions-table">
            <thead>
              <tr>
                <th scope="col">submission</th>
                <th scope="col">family</th>
                <th scope="col">tier · hardware class</th>
                <th scope="col">quality: re-run (claimed mean [95% interval])</th>
                <th scope="col">status</th>
                <th scope="col">uploaded</th>
              </tr>
            </thead>
            <tbody>
              {listing.submissions.map((s) => (
                <SubmissionRow key={s.id} s={s} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </article>
  );
}
