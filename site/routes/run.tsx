import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { flagOf, paceAgainstBaselines, UNCOUNTED_COMPUTE_FACTOR } from '../../harness/measure/uncounted.ts';
import { PROVENANCE_TEXT } from '../../harness/results/provenance.ts';
import type { RunRecord } from '../../harness/results/record.ts';
import { EmptyStore } from '../components/EmptyStore.tsx';
import { ProvenanceMark } from '../components/Provenance.tsx';
import {
  AblationHeatmap,
  CurveChart,
  DensityChart,
  ExpertLabelHeatmap,
  groupName,
  LossChart,
  PowerChart,
  RoutingLoadChart,
} from '../components/RunCharts.tsx';
import { qualityFormat } from '../lib/curves.ts';
import { FAMILY_LABEL } from '../lib/family.ts';
import { count, date, flops, joules, percent, seconds, si, sig } from '../lib/format.ts';
import { live } from '../lib/live.ts';
import { isExport } from '../lib/mode.ts';
import { segment } from '../lib/params.ts';
import { runCostText } from '../lib/run-cost.ts';
import { getStore } from '../lib/store.ts';
import { archHref, metricLabel, runHref } from '../lib/view.ts';

type Params = { id: string };

export async function generateStaticParams(): Promise<Params[]> {
  if (!isExport) return [];
  const st = await getStore();
  const runs = st.ok ? await st.store.runs() : [];
  // an export must prerender at least one page per route; this one is a 404
  return runs.length > 0 ? runs.map((r) => ({ id: r.id })) : [{ id: 'none' }];
}

export async function generateMetadata({ params }: { params: Promise<Params> }): Promise<Metadata> {
  return { title: `run ${segment((await params).id)}` };
}

function Figure(props: { label: string; children: React.ReactNode }) {
  return (
    <>
      <dt>{props.label}</dt>
      <dd>{props.children}</dd>
    </>
  );
}

/** The run's cost-to-target against the target in force now; a figure the record stored when it ran is history only. */
function CostToTarget({ r }: { r: RunRecord }) {
  const c = runCostText(r);
  return (
    <Figure label={c.label}>
      <span data-cost-to-target>{c.figure}</span>
      {c.history ? (
        <span className="muted small" data-cost-history>
          {' '}
          ({c.history})
        </span>
      ) : null}
    </Figure>
  );
}

/**
 * Where a figure comes from: measured by the harness itself (its clock, /proc, its scorer), or,
 * for a run whose model ran in a child process, reported by that process — a claim, checked
 * against what the harness measured (README: the trust boundary).
 */
function Source({ r, measured }: { r: RunRecord; measured: boolean }) {
  if (measured)
    return (
      <span className="muted small" data-provenance="measured">
        {' '}
        · measured by the harness
      </span>
    );
  return r.training.confined ? (
    <span className="muted small" data-provenance="claimed">
      {' '}
      · claimed by the model's process, checked against the measured seconds and memory
    </span>
  ) : (
    <span className="muted small" data-provenance="measured">
      {' '}
      · counted in the harness's process
    </span>
  );
}

function Summary({ r }: { r: RunRecord }) {
  const m = r.task.metric;
  const unit = m.unit && m.unit !== '%' ? ` ${m.unit}` : m.unit;
  return (
    <dl className="kv">
      <Figure label="architecture">
        <Link href={archHref(r.architecture.name)}>{r.architecture.name}</Link> ({FAMILY_LABEL[r.architecture.family]})
      </Figure>
      <Figure label="task">
        {r.task.id}, tier {r.task.tier}, seed {r.task.seed}
        {r.task.variantSeed !== null ? `, data variant ${r.task.variantSeed}` : ''}
      </Figure>
      <Figure label="hardware class">{r.hardwareClass}</Figure>
      <Figure label={`final ${metricLabel(m)}`}>
        {r.final ? `${qualityFormat(m)(r.final.quality)}${m.name === 'accuracy' ? '' : unit}` : '—'}
        <Source r={r} measured />
      </Figure>
      <Figure label="final eval loss">{r.final ? sig(r.final.evalLoss, 4) : '—'}</Figure>
      <CostToTarget r={r} />
      <Figure label="executed FLOPs">
        {flops(r.flops.executed)} of a {flops(r.training.budgetFlops)} budget ({flops(r.flops.perStep)} per step)
        <Source r={r} measured={false} />
      </Figure>
      <Figure label="model FLOPs">{flops(r.flops.model)}</Figure>
      <Figure label="training time">
        {seconds(r.training.wallSeconds)} (first step {seconds(r.training.firstStepSeconds)}; evaluation {seconds(r.training.evalSeconds)}{' '}
        apart)
        {r.training.confined === undefined ? null : (
          <span className="muted" id="run-isolation">
            {' '}
            ·{' '}
            {r.training.confined
              ? 'confined child process: each step includes handing the batch over and one round trip'
              : "in the harness's process"}
          </span>
        )}
        <Source r={r} measured />
      </Figure>
      {r.training.cpuSeconds === undefined ? null : (
        <Figure label="training CPU time">
          {r.training.cpuSeconds === null ? 'not measured (no /proc here)' : seconds(r.training.cpuSeconds)}
          {r.training.cpuSeconds === null ? null : <Source r={r} measured />}
        </Figure>
      )}
      {r.training.sandbox === undefined ? null : (
        <Figure label="sandbox">
          <span id="run-sandbox">
            {r.training.sandbox
              ? `${r.training.sandbox.tool} ${r.training.sandbox.version}: uid ${r.training.sandbox.outsideUid} outside, its own pid and network namespaces`
              : 'none (in-process, or a machine without one)'}
          </span>
        </Figure>
      )}

      <Figure label="energy">
        {r.energy.measured ? (
          <>
            {joules(r.energy.grossJoules)} gross, {joules(r.energy.netJoules)} net of {sig(r.energy.idleWatts)} W idle ({r.energy.method},{' '}
            {r.energy.devices}, {r.energy.samples} samples)
          </>
        ) : (
          <span className="not-measured" title={r.energy.reason}>
            not measured: {r.energy.reason}
          </span>
        )}
      </Figure>
      <Figure label="parameters">
        {count(r.params.total)} total, {count(r.params.active)} active
        <Source r={r} measured={false} />
      </Figure>
      <Figure label="training">
        {r.training.steps} steps × batch {r.training.batchSize} ({count(r.training.examples)} examples), {r.training.optimizer} at lr{' '}
        {r.training.learningRate}
        {r.tuning ? (
          <span className="muted small" data-tuning>
            {' '}
            tuned: chosen from [{r.tuning.grid.join(', ')}] by {r.tuning.validationMetric} (
            {r.tuning.validationQualities.map((q) => (q === null ? 'not completed' : sig(q, 4))).join(', ')}
            {r.tuning.seeds ? ', means' : ''}) at {r.tuning.budgetFraction}× the budget,{' '}
            {r.tuning.seeds ? `seeds ${r.tuning.seeds.join(', ')}` : `seed ${r.tuning.seed}`}
            {r.tuning.why ? ` (${r.tuning.why})` : ''}
          </span>
        ) : (
          <span className="muted small"> the tier's (not tuned for this architecture)</span>
        )}
      </Figure>
      <Figure label="readbacks by the model">
        {r.readbacks ? (
          `${count(r.readbacks.calls)} calls, ${si(r.readbacks.bytes, 'B')}`
        ) : (
          <span className="not-measured">not measured: the record predates readback accounting</span>
        )}
      </Figure>
      <Figure label="memory">
        peak tensors {si(r.memory.peakTensorBytes, 'B')}, peak RSS {si(r.memory.peakRssBytes, 'B')}
        {r.training.confined ? (
          <span className="muted small" data-provenance="measured">
            {' '}
            · the resident peak read by the harness from /proc; the tensor peak claimed by the model's process
          </span>
        ) : null}
      </Figure>
      <Figure label="backend">
        {r.backend.name} — {r.backend.reason}
      </Figure>
      <Figure label="started">
        {date(r.startedAt)}, finished {date(r.finishedAt)}
      </Figure>
      <Figure label="harness">{r.harnessVersion}</Figure>
      <Figure label="protocol">
        {r.protocol ? (
          <span data-protocol={r.protocol.hash}>
            version {r.protocol.version} ({r.protocol.hash.slice(0, 12)}): run under the pre-registered rules of{' '}
            <a href="/methods">/methods</a>
          </span>
        ) : (
          <span data-protocol="none">none — exploratory: run before the protocol existed, while its rules were being chosen</span>
        )}
      </Figure>
    </dl>
  );
}

/**
 * Wall time per counted FLOP against the baselines of the run's task, tier and hardware
 * class (harness/measure/uncounted.ts): the flag a maintainer reads, or why it was not made.
 */
function ComputeCheck({ r, baselines }: { r: RunRecord; baselines: readonly RunRecord[] | null }) {
  if (!baselines || r.status !== 'completed') return null;
  const pace = paceAgainstBaselines(r, baselines);
  const flag = pace && flagOf(r, pace);
  if (flag)
    return (
      <p className="note" id="run-compute-check" data-check={flag.kind}>
        ⚑ {flag.message}
      </p>
    );
  return pace ? (
    <p className="muted small" id="run-compute-check" data-check="within">
      Uncounted-compute check (the FLOP ledger is the child’s claim; the seconds are measured here): {sig(pace.ratio)}× the training seconds
      per counted FLOP of the {pace.like.length} baseline run(s) of its task, tier and hardware class of the slowest of them (flagged above{' '}
      {UNCOUNTED_COMPUTE_FACTOR}×).
    </p>
  ) : (
    <p className="muted small" id="run-compute-check" data-check="not-checked">
      Uncounted-compute check: not made — the store holds no baseline runs of this task, tier and hardware class to compare with.
    </p>
  );
}

function Fingerprint({ r }: { r: RunRecord }) {
  const f = r.fingerprint;
  return (
    <dl className="kv">
      <Figure label="CPU">
        {f.cpu} ({f.cpuCores} cores)
      </Figure>
      <Figure label="GPUs">
        {f.gpus.length ? f.gpus.map((g) => `${g.vendor} ${g.model}${g.memoryMB ? ` (${g.memoryMB} MB)` : ''}`).join(', ') : 'none'}
      </Figure>
      <Figure label="memory">{si(f.memoryBytes, 'B')}</Figure>
      <Figure label="OS">{f.os}</Figure>
      <Figure label="Node">{f.node}</Figure>
      <Figure label="tfjs">{f.tfjs}</Figure>
      <Figure label="backend">
        {f.backend}
        {f.backendVersion ? ` ${f.backendVersion}` : ''} on {f.device}
      </Figure>
      <Figure label="git">{f.gitCommit ? `${f.gitCommit}${f.gitDirty ? ' (dirty)' : ''}` : 'unknown'}</Figure>
      <Figure label="source hash">
        <code>{r.architecture.sourceHash}</code>
      </Figure>
      <Figure label="key">
        <code>{r.key}</code>
      </Figure>
      <Figure label="content hash">
        <code>{r.contentHash}</code>
      </Figure>
      <Figure label="hyperparameters">
        {Object.entries(r.architecture.hyperparameters)
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(', ') || '—'}
      </Figure>
    </dl>
  );
}

export default async function RunPage({ params }: { params: Promise<Params> }) {
  await live();
  const id = segment((await params).id);
  const st = await getStore();
  if (!st.ok) return <EmptyStore where={st.where} reason={st.reason} kind={st.kind} />;
  const r = await st.store.run(id);
  if (!r) notFound();
  const provenance = (await st.store.provenance(id)) ?? 'local';
  // a baseline is what the others are compared with
  const baselines =
    provenance === 'baseline' || r.architecture.origin === 'baseline'
      ? null
      : await st.store.records({ task: r.task.id, tier: r.task.tier, hardwareClass: r.hardwareClass, provenance: ['baseline'] });
  const routing = r.final?.legibility.routing ?? r.curve.at(-1)?.legibility?.routing ?? [];
  const sup = r.final?.legibility.superposition ?? null;
  const ablation = r.final?.legibility.ablation ?? null;
  const sub = r.final ? Object.entries(r.final.subQualities) : [];
  return (
    <article className="run" data-run={r.id} data-curve-points={r.curve.length}>
      <p className="muted small">
        <Link href="/">leaderboard</Link> › <Link href={archHref(r.architecture.name)}>{r.architecture.name}</Link> › run
      </p>
      <h1>
        {r.id} <span className={`status ${r.status}`}>{r.status}</span>
      </h1>
      <p id="run-provenance">
        Provenance: <ProvenanceMark provenance={provenance} /> <span className="muted small">{PROVENANCE_TEXT[provenance]}.</span>
      </p>
      <ComputeCheck r={r} baselines={baselines} />
      {r.failure && (
        <p className="note">
          {r.status} during {r.failure.phase}: {r.failure.message}
        </p>
      )}
      <p>
        <a href={`${runHref(r.id)}/record.json`} download={`${r.id}.json`} id="record-download">
          Download the record (JSON)
        </a>
        <span className="muted small"> — the run record exactly as stored, validated against the schema; its content hash is below.</span>
      </p>
      <div className="panels">
        <section className="panel">
          <h2>Summary</h2>
          <Summary r={r} />
        </section>
        <section className="panel">
          <h2>Quality against compute</h2>
          {r.curve.length ? <CurveChart record={r} against="flops" /> : <p className="muted">No evaluation points were recorded.</p>}
          <p className="muted small">{r.curve.length} evaluation points; the dashed line is the FLOP budget.</p>
        </section>
        <section className="panel">
          <h2>Quality against time</h2>
          {r.curve.length ? <CurveChart record={r} against="seconds" /> : <p className="muted">No evaluation points were recorded.</p>}
        </section>
        <section className="panel losses">
          <h2>Training and evaluation loss</h2>
          {r.curve.length ? <LossChart record={r} /> : <p className="muted">No evaluation points were recorded.</p>}
          <p className="muted small">
            Training loss: the mean task loss (without auxiliary losses) since the previous evaluation; evaluation loss: on the held-out set
            at that point.
          </p>
        </section>
        <section className="panel">
          <h2>Power</h2>
          {r.powerTrace.length ? (
            <>
              <PowerChart record={r} />
              <p className="muted small">Sampled power; the dashed line is idle power measured before the run.</p>
            </>
          ) : (
            <p className="muted">Not measured{r.energy.measured ? ': no power samples were kept' : `: ${r.energy.reason}`}.</p>
          )}
        </section>
        <section className="panel">
          <h2>Update density over training</h2>
          {r.curve.some((c) => c.legibility) ? <DensityChart record={r} /> : <p className="muted">No legibility figures were recorded.</p>}
          {r.final && (
            <p className="muted small">
              Final: update density {percent(r.final.legibility.updateDensity)}, gradient density{' '}
              {percent(r.final.legibility.gradientDensity)}, activation sparsity {percent(r.final.legibility.activationSparsity)}.
            </p>
          )}
        </section>
        {routing.map((layer) => (
          <section className="panel routing" key={layer.layer}>
            <h2>Routing: {layer.layer}</h2>
            <RoutingLoadChart layer={layer} />
            <p className="muted small">
              {layer.experts} experts; effective experts {sig(layer.effectiveExperts)}; MaxVio {sig(layer.maxVio)}; CV{' '}
              {sig(layer.coefficientOfVariation)}; routing entropy {layer.routingEntropy === null ? '—' : sig(layer.routingEntropy)}; NMI
              with label {sig(layer.nmi)}
              {layer.ami !== undefined && layer.amiNull
                ? `; AMI ${sig(layer.ami)} (labels permuted: mean ${sig(layer.amiNull.mean)}, 95th percentile ${sig(layer.amiNull.p95)})`
                : ''}
              . Dashed: a perfectly even load.
            </p>
            <h3>Expert × {groupName(r.task.id)}</h3>
            <ExpertLabelHeatmap layer={layer} task={r.task.id} />
          </section>
        ))}
        {ablation && (
          <section className="panel ablation">
            <h2>Expert ablation: {ablation.layer}</h2>
            <AblationHeatmap ablation={ablation} task={r.task.id} />
            <p className="muted small">
              At the end of training, the held-out set again with one expert masked at a time: each cell is what that label loses (in the
              task's metric; darker is a larger loss). Diagonal dominance {sig(ablation.diagonalDominance)}: 1 when each expert matters to
              one label only, 0 when masking it hurts every label alike.
              {ablation.dominanceNull
                ? ` With the labels permuted (groups no router could know): mean ${sig(ablation.dominanceNull.mean)}, 95th percentile ${sig(ablation.dominanceNull.p95)}.`
                : ' No label-blind null was recorded for this run.'}
            </p>
          </section>
        )}
        {(sup || sub.length > 0) && (
          <section className="panel">
            <h2>More figures</h2>
            <dl className="kv">
              {sup && <Figure label="dimensions per feature (m/‖W‖², tied models only)">{sig(sup.dimensionsPerFeature)}</Figure>}
              {sup?.dimensionsPerFeatureScaleFree !== undefined && (
                <Figure label="dimensions per feature (scale-free)">{sig(sup.dimensionsPerFeatureScaleFree)}</Figure>
              )}
              {sub.map(([k, v]) => (
                <Figure key={k} label={k}>
                  {sig(v, 4)}
                </Figure>
              ))}
            </dl>
          </section>
        )}
        <section className="panel">
          <h2>Fingerprint</h2>
          <Fingerprint r={r} />
        </section>
      </div>
    </article>
  );
}
