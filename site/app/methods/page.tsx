/**
 * How every figure is measured. Lists that exist in code (record fields, energy methods,
 * cost axes, tiers and budgets) are read from the code, not copied by hand.
 */
import MarkdownIt from 'markdown-it';
import type { Metadata } from 'next';
import { protocolProse } from '../../../harness/findings/protocol-prose.ts';
import { energyReading, runStatus, tierName } from '../../../harness/results/record.ts';
import { COST_AXES } from '../../../harness/store/types.ts';
import { TargetTable, TierTable } from '../../components/Tiers.tsx';
import { PROTOCOL } from '../../lib/protocol.ts';
import { COST_LABEL } from '../../lib/view.ts';

const md = new MarkdownIt({ html: false, linkify: false, typographer: false });

export const metadata: Metadata = { title: 'methods' };

/** The energy methods a record may name, from the record schema itself. */
function energyMethods(): string[] {
  const measured = energyReading.options.find((o) => o.shape.measured.value === true);
  return measured && 'method' in measured.shape ? [...measured.shape.method.options] : [];
}

const ENERGY_METHOD_TEXT: Record<string, string> = {
  'nvml-energy-counter': 'NVIDIA’s total-energy counter (NVML), read before and after training',
  'nvml-power-sampled': 'NVML power sampled at 10 Hz or faster and integrated over the training window',
  rapl: 'the CPU’s RAPL package energy counters under /sys/class/powercap, with wraparound handled',
};

export default function MethodsPage() {
  return (
    <article className="methods">
      <h1>Methods</h1>
      <p className="lede">
        How each figure on this site is measured, what “not measured” means, and the tiers and budgets every run is held to. A run record is
        the only thing that crosses from the harness to this site; every figure here is read from records.
      </p>

      <h2>How runs are trained</h2>
      <p>
        A tier ({tierName.options.join(', ')}) fixes, per task, the model size caps, the batch, the optimizer and a training-FLOP budget.
        Training stops when the executed FLOPs reach the budget, so a cheaper architecture simply gets more steps, and quality at equal
        compute is a fair comparison. The loop evaluates on the held-out split on a fixed FLOP schedule, so every run has a curve of (FLOPs,
        seconds, joules) → quality. Runs are ranked only against runs of the same tier on the same hardware class (device, count and
        backend).
      </p>
      <TierTable />

      <h2>Cost axes</h2>
      <dl className="kv">
        {COST_AXES.map((c) => (
          <div key={c} style={{ display: 'contents' }}>
            <dt>{COST_LABEL[c]}</dt>
            <dd>
              {c === 'executedFlops' &&
                'Counted at run time by wrapping the backend’s kernels (matrix multiplies, convolutions, element-wise ops, reductions) and reading their shapes: backward passes and dispatch overhead included. The budget is in these FLOPs.'}
              {c === 'modelFlops' &&
                'The analytic count: 6 × active parameters per example or token, plus attention and router terms (Kaplan/Chinchilla style). Shown beside executed FLOPs; the gap is overhead.'}
              {c === 'wallSeconds' &&
                'Wall time of training only, with a forced device sync at each measurement point; evaluation and the first step (graph set-up, kernel compilation) are also recorded apart.'}
              {c === 'energyJoules' && (
                <>
                  Gross joules from a hardware counter, with idle power measured before the run and net energy reported beside gross.
                  Methods a record may name:{' '}
                  {energyMethods()
                    .map((m) => `${m} (${ENERGY_METHOD_TEXT[m] ?? m})`)
                    .join('; ')}
                  .
                </>
              )}
            </dd>
          </div>
        ))}
      </dl>

      <h2>What “not measured” means</h2>
      <p>
        Where no energy counter could be read (no NVIDIA driver, no readable RAPL counters, a virtual machine), the record says energy was
        not measured and why; the site shows “not measured” with that reason on hover. It is never replaced by a guess from a power rating.
        An architecture whose runs were not all measured has no energy figure and is left off the energy axis.
      </p>

      <h2>Capability</h2>
      <p>
        Quality is each task’s held-out metric at the budget (its name, unit and direction are in the record). Each task has a fixed quality
        target per tier, set from the dense baseline’s runs as AlgoPerf and MLPerf set theirs. A run’s cost-to-target — in executed FLOPs,
        model FLOPs, seconds and, where measured, joules — is where its evaluated quality reaches the target and stays there to the end of
        training, interpolated in log-cost between the two evaluation points around it; “not reached” when the run ends short of it. A run
        already on target at its first evaluation point only bounds its cost from above, and is shown as a bound.
      </p>
      <TargetTable />

      <h2>Multipliers and verdicts</h2>
      <p>
        The compute multiplier against the reference ({PROTOCOL.reference.architecture}, the routed scaffold with one expert;{' '}
        {PROTOCOL.reference.second} is a second, labelled column) is, per seed, the reference’s cost-to-target divided by the architecture’s
        on the same seed (same data order and initial draw), then the geometric mean over seeds with a 95% t-interval on the per-seed
        logarithms: the reference’s own variance is included and the interval never goes below zero. A seed that did not reach the target,
        or only bounds its cost, is never dropped: the multiplier becomes a bound, or “k of n seeds reached” with no interval. Every verdict
        is one of the protocol’s claims below, Holm-corrected within the family the claim names; “no difference” and “no trend” are shown
        only by two one-sided tests (TOST) against the protocol’s margins; every “inconclusive” prints its minimum detectable effect; a
        quality difference smaller than twice the test set’s standard error gets no verdict (the test set is one draw shared by every seed,
        so seed intervals leave its error out).
      </p>

      <section className="protocol" data-version={PROTOCOL.version}>
        {/* generated from results/protocol.json (harness/findings/protocol-prose.ts), the same text as docs/protocol.md; html off */}
        <div
          dangerouslySetInnerHTML={{
            __html: md.render(protocolProse(PROTOCOL).replace(/^# .*\n/, `## The pre-registered protocol (version ${PROTOCOL.version})\n`)),
          }}
        />
      </section>

      <h2>Intervals</h2>
      <p>
        Every figure is a mean over seeds with a 95% Student-t interval (a single seed shows the mean alone). For “all tasks” the band is
        the geometric mean of the per-task bounds, a summary rather than a t-interval. Runs that did not complete (
        {runStatus.options.filter((s) => s !== 'completed').join(', ')}) are counted beside the seeds and never enter a mean.
      </p>

      <h2>Legibility</h2>
      <dl className="kv">
        <dt>NMI</dt>
        <dd>
          Normalised mutual information between the expert chosen and the task’s label (0: unrelated, 1: one expert per label). It is not
          adjusted for chance, so the findings read AMI beside its null instead.
        </dd>
        <dt>AMI and its null</dt>
        <dd>
          Adjusted mutual information (Vinh et al. 2010) between the expert chosen and the label: 1 for the same partition up to
          relabelling, ≈ 0 for independence, below 1 when several labels share an expert. Beside it, the same AMI with the labels permuted
          100 times (mean and 95th percentile): routing says something about the label only above that percentile.
        </dd>
        <dt>ablation dominance and its null</dt>
        <dd>
          Masking one expert at a time: how much each expert’s loss falls on one label. Beside it, the same figure with the held-out labels
          permuted (groups of the same sizes that no router could know).
        </dd>
        <dt>dimensions per feature (scale-free)</dt>
        <dd>
          m over the participation ratio of the feature embeddings’ norms: D* of Elhage et al. without its dependence on the encoder’s
          scale, which an untied model can change freely.
        </dd>
        <dt>effective experts</dt>
        <dd>exp(entropy of the load over experts); equal to the expert count when the load is even.</dd>
        <dt>activation sparsity</dt>
        <dd>The share of hidden activations that are zero (below 10⁻⁶).</dd>
        <dt>update density</dt>
        <dd>
          The share of parameters whose value changed in a sampled step, measured on Δθ (Adam moves parameters whose gradient was zero, so
          the gradient’s sparsity is not enough).
        </dd>
      </dl>
    </article>
  );
}
