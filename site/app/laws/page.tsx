/**
 * The laws routing is said to obey, measured here: per sweep plan (results/sweeps/), loss
 * against the expert count per router and active size with Clark et al.'s fitted law and its
 * residuals, the granularity curve with Krajewski et al.'s term, and the coefficients beside
 * the papers' signs (the same text as `middlepath laws`: harness/laws/text.ts). Sweep records
 * are read from their files (results/sweeps/runs), never the leaderboard's store. With no
 * sweep recorded it says so and gives the command.
 */
import MarkdownIt from 'markdown-it';
import type { Metadata } from 'next';
import { lawsStudy } from '../../../harness/laws/study.ts';
import { lawsSection, sweepCommand } from '../../../harness/laws/text.ts';
import { ExpertsChart, GranularityChart, ResidualsChart } from '../../components/LawsChart.tsx';
import { live } from '../../lib/live.ts';
import { sweepPlans, sweepRecords } from '../../lib/sweeps.ts';

export const metadata: Metadata = { title: 'laws' };

const md = new MarkdownIt({ html: false, linkify: false, typographer: false });

export default async function LawsPage() {
  await live();
  const { plans, errors } = sweepPlans();
  const records = sweepRecords();
  const studies = plans.map((plan) => lawsStudy(plan, records));
  const run = studies.filter((s) => s.observations > 0);
  return (
    <article className="laws" data-sweeps={studies.length} data-recorded={run.length}>
      <h1>Laws</h1>
      <p className="lede">
        Where does routing pay? The MoE literature locates its gains on axes the scaling ladder does not vary: the number of experts E at a
        fixed active size N (Clark et al. 2022, arXiv 2202.01169) and how finely the experts are cut, G (Krajewski et al. 2024, arXiv
        2402.07871). Each sweep below is a plan fixed before its runs (results/sweeps/), run under the protocol it names; its fits are
        computed here from the records, with seed-level bootstrap intervals, and a “no effect” only where an equivalence test says so.
      </p>
      {run.length === 0 && (
        <p className="laws-empty" data-empty="true">
          The sweeps have not been run yet: no record of any plan’s cells is in results/sweeps/runs. Run them with{' '}
          {plans.map((p, i) => (
            <span key={p.name}>
              {i > 0 && ' and '}
              <code>{sweepCommand(p.name)}</code>
            </span>
          ))}{' '}
          (resumable; results/sweeps/README.md gives the commands, the shards and the measured compute estimate).
        </p>
      )}
      {errors.map((e) => (
        <p key={e.file} className="laws-error">
          {e.file}: {e.message}
        </p>
      ))}
      {studies.map((s) => (
        <section key={s.plan.name} className="laws-sweep" data-sweep={s.plan.name} data-observations={s.observations}>
          <h2>{s.plan.name}</h2>
          <p>{s.plan.description}</p>
          <div className="laws-charts">
            {s.clark.map((f) => (
              <figure key={`${f.router}-${f.tier}`} data-router={f.router} data-tier={f.tier}>
                <figcaption>
                  {f.router} · {f.tier}
                </figcaption>
                <ExpertsChart fit={f} observations={s.observationsList} />
                <ResidualsChart fit={f} />
              </figure>
            ))}
            {s.granularity.map((g) => (
              <figure key={`${g.router}-${g.tier}`} data-router={g.router} data-tier={g.tier}>
                <figcaption>
                  {g.router} · {g.tier} · granularity
                </figcaption>
                <GranularityChart fit={g} observations={s.observationsList} />
              </figure>
            ))}
          </div>
          {/* markdown-it with html: false escapes every character of the source: no record text becomes markup */}
          <div className="findings-body" dangerouslySetInnerHTML={{ __html: md.render(lawsSection(s)) }} />
        </section>
      ))}
    </article>
  );
}
