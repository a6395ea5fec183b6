import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import type { RunRecord } from '../../harness/results/record.ts';
import { meanInterval } from '../../harness/store/stats.ts';
import type { RunSummary } from '../../harness/store/types.ts';
import { EmptyStore } from '../components/EmptyStore.tsx';
import { RunsTable } from '../components/RunsTable.tsx';
import { qualityScale } from '../lib/curves.ts';
import { FAMILY_COLOR, FAMILY_LABEL } from '../lib/family.ts';
import { date, interval, sig } from '../lib/format.ts';
import { live } from '../lib/live.ts';
import { isExport } from '../lib/mode.ts';
import { segment } from '../lib/params.ts';
import { getStore } from '../lib/store.ts';
import { compareHref, TIER_ORDER, viewHref } from '../lib/view.ts';

type Params = { name: string };

/** The most runs an architecture page lists; the rest are counted, and reachable per task from the leaderboard. */
const RUN_LIMIT = 1000;

export async function generateStaticParams(): Promise<Params[]> {
  if (!isExport) return [];
  const st = await getStore();
  const archs = st.ok ? await st.store.architectures() : [];
  return archs.length ? archs.map((a) => ({ name: a.name })) : [{ name: 'none' }];
}

export async function generateMetadata({ params }: { params: Promise<Params> }): Promise<Metadata> {
  return { title: segment((await params).name) };
}

export default async function ArchPage({ params }: { params: Promise<Params> }) {
  await live();
  const name = segment((await params).name);
  const st = await getStore();
  if (!st.ok) return <EmptyStore where={st.where} reason={st.reason} kind={st.kind} />;
  const a = await st.store.architecture(name);
  if (!a) notFound();
  const others = (await st.store.architectures()).filter((o) => o.name !== a.name);
  const dense = others.find((o) => o.family === 'dense');
  const completed = a.runs.filter((r) => r.status === 'completed').length;
  const facets = await st.store.facets();
  // one row per (tier, hardware class, task), most recent first: settings differ by task (charlm's are its own)
  const groups = new Map<string, RunSummary[]>();
  for (const r of a.runs) {
    const k = [r.tier, r.hardwareClass, r.task].join('\u0000');
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const perTask = await Promise.all(
    [...groups.values()].map(async (runs) => {
      const latest = runs[0] as RunSummary;
      const rec: RunRecord | null = await st.store.run(latest.id);
      const done = runs.filter((r) => r.status === 'completed' && r.quality !== null);
      const metric = facets.metrics[latest.task];
      const scale = qualityScale(metric);
      const q = done.length ? meanInterval(done.map((r) => (r.quality as number) * scale.factor)) : null;
      return { latest, runs, done, metric, scale, q, rec };
    }),
  );
  // tiers smallest first (smoke, the ladder's rungs, cpu, gpu), then hardware class and task
  perTask.sort(
    (x, y) =>
      TIER_ORDER.indexOf(x.latest.tier) - TIER_ORDER.indexOf(y.latest.tier) ||
      x.latest.hardwareClass.localeCompare(y.latest.hardwareClass) ||
      x.latest.task.localeCompare(y.latest.task),
  );
  return (
    <article data-arch={a.name}>
      <p className="muted small">
        <Link href="/">leaderboard</Link> › architecture
      </p>
      <h1 id="arch-name">{a.name}</h1>
      <p className="lede" id="arch-description">
        {a.description}
      </p>
      <dl className="kv">
        <dt>family</dt>
        <dd>
          <span className="badge" style={{ borderColor: FAMILY_COLOR[a.family], color: FAMILY_COLOR[a.family] }}>
            {FAMILY_LABEL[a.family]}
          </span>
        </dd>
        <dt>origin</dt>
        <dd>{a.origin}</dd>
        {a.reference && (
          <>
            <dt>reference</dt>
            <dd>{a.reference}</dd>
          </>
        )}
        <dt>runs</dt>
        <dd>
          {a.runs.length} ({completed} completed)
        </dd>
        {dense && (
          <>
            <dt>compare</dt>
            <dd>
              <Link href={compareHref(a.name, dense.name)} prefetch={false}>
                side by side with {dense.name}
              </Link>
            </dd>
          </>
        )}
      </dl>
      <h2>Per task</h2>
      <p className="muted small">Settings are those of the task’s most recent run: a task may set its own (sizes, learning rate).</p>
      <div className="table-wrap">
        <table id="per-task-table">
          <thead>
            <tr>
              <th scope="col">task</th>
              <th scope="col">tier · hardware</th>
              <th scope="col" className="num">
                runs (completed)
              </th>
              <th scope="col" className="num">
                quality at budget
              </th>
              <th scope="col">settings</th>
            </tr>
          </thead>
          <tbody>
            {perTask.map((t) => {
              const hp = Object.entries(t.rec?.architecture.hyperparameters ?? {});
              const tr = t.rec?.training;
              return (
                <tr
                  key={`${t.latest.tier}|${t.latest.hardwareClass}|${t.latest.task}`}
                  data-task={t.latest.task}
                  data-tier={t.latest.tier}
                  data-hw={t.latest.hardwareClass}
                >
                  <td>
                    <Link
                      href={viewHref(facets, {
                        task: t.latest.task,
                        tier: t.latest.tier,
                        hw: t.latest.hardwareClass,
                        cost: 'executedFlops',
                        cap: 'quality',
                        sort: null,
                        dir: 'desc',
                        prov: 'all',
                        fam: 'all',
                        hide: [],
                      })}
                      prefetch={false}
                    >
                      {t.latest.task}
                    </Link>
                  </td>
                  <td>
                    {t.latest.tier} · {t.latest.hardwareClass}
                  </td>
                  <td className="num">
                    {t.runs.length} ({t.done.length})
                  </td>
                  <td className="num" data-col="quality">
                    {t.q
                      ? `${interval(t.q, (x) => sig(x, 4))}${t.scale.unit ? (t.scale.unit === '%' ? '%' : ` ${t.scale.unit}`) : ''}`
                      : '—'}
                    {t.metric && <div className="muted small">{t.metric.name}</div>}
                  </td>
                  <td className="settings" data-col="settings">
                    {hp.length ? hp.map(([k, v]) => `${k}=${String(v)}`).join(', ') : '—'}
                    {tr && (
                      <div className="muted small">{`${tr.optimizer}, learning rate ${sig(tr.learningRate, 3)}, batch ${tr.batchSize}`}</div>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <h2>Source versions</h2>
      <div className="table-wrap">
        <table id="sources-table">
          <thead>
            <tr>
              <th scope="col">SHA-256 of the module source</th>
              <th scope="col" className="num">
                runs
              </th>
              <th scope="col">first run</th>
              <th scope="col">last run</th>
            </tr>
          </thead>
          <tbody>
            {a.sources.map((s) => (
              <tr key={s.sourceHash}>
                <td>
                  <code>{s.sourceHash}</code>
                </td>
                <td className="num">{s.runs}</td>
                <td>{date(s.firstStartedAt)}</td>
                <td>{date(s.lastStartedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Every run</h2>
      {a.runs.length > RUN_LIMIT && (
        <p className="muted small">
          The {RUN_LIMIT} most recent of {a.runs.length} runs.
        </p>
      )}
      <RunsTable runs={a.runs.slice(0, RUN_LIMIT)} metrics={facets.metrics} />
    </article>
  );
}
