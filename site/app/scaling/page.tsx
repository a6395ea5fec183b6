/**
 * The scaling study on a page: per task, every ladder run against its compute with each
 * architecture's fitted curve, then the same table as the README's Scaling section (the same
 * code: harness/findings/scaling.ts); each dot's title names its architecture, seed and rung.
 */
import MarkdownIt from 'markdown-it';
import type { Metadata } from 'next';
import { scalingStudy, trendRulesOf } from '../../../harness/findings/scaling.ts';
import { scalingSection } from '../../../harness/findings/scaling-text.ts';
import { taskOrder } from '../../../harness/findings/summarize.ts';
import type { RunRecord } from '../../../harness/results/record.ts';
import { archColors } from '../../components/CurvesChart.tsx';
import { EmptyStore } from '../../components/EmptyStore.tsx';
import { ScalingChart } from '../../components/ScalingChart.tsx';
import { rungRecords } from '../../lib/ladder.ts';
import { live } from '../../lib/live.ts';
import { PROTOCOL } from '../../lib/protocol.ts';
import { getStore } from '../../lib/store.ts';

export const metadata: Metadata = { title: 'scaling' };

const md = new MarkdownIt({ html: false, linkify: false, typographer: false });

export default async function ScalingPage() {
  await live();
  const st = await getStore();
  if (!st.ok) return <EmptyStore where={st.where} reason={st.reason} kind={st.kind} />;
  const facets = await st.store.facets();
  const rungs = await rungRecords(st.store, facets);
  // the ladder's top rung is the cpu tier itself: its runs of the tasks that have rungs, every hardware class
  const tasks = new Set(rungs.map((r) => r.task.id));
  const records: RunRecord[] = [...rungs];
  for (const s of facets.slices.filter((x) => x.tier === 'cpu' && tasks.has(x.task)))
    records.push(...(await st.store.records({ task: s.task, tier: 'cpu', hardwareClass: s.hardwareClass })));
  const rules = trendRulesOf(PROTOCOL);
  const study = scalingStudy(records, taskOrder(records), rules);
  const section = scalingSection(study, rules);
  return (
    <article className="scaling" data-tasks={study.length}>
      <h1>Scaling</h1>
      <p className="lede">
        Does the gap between dense-block (the routed scaffold with one expert) and routed models grow, hold or shrink as training compute
        grows? Each task’s cpu-tier model is trained at ⅛, ¼, ½ and 1 of its budget, every rung with its own learning-rate schedule, several
        seeds each (five for most architectures, ten for dense); dots are runs, lines the fitted curves. These are exploratory runs, seen
        while the protocol’s rules were chosen.
      </p>
      {study.map((t) => (
        <section key={t.task} className="scaling-task" data-task={t.task}>
          <h2>{t.task}</h2>
          <ScalingChart study={t} colors={archColors(t.archs.map((a) => a.arch))} />
        </section>
      ))}
      {/* markdown-it with html: false escapes every character of the source: no record text becomes markup */}
      <div className="findings-body" dangerouslySetInnerHTML={{ __html: md.render(section) }} />
    </article>
  );
}
