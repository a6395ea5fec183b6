/**
 * Power sampling and integration: poll a `() => watts` function on a timer, integrate with
 * the trapezoid rule over the real sample times, and shrink a trace for the run record.
 */

/** t in seconds from the start of the window */
export interface PowerSample {
  t: number;
  watts: number;
}

export const DEFAULT_SAMPLE_HZ = 10;
export const MAX_TRACE_POINTS = 200;

/** Joules under a power trace: Σ (w_i + w_{i+1})/2 · (t_{i+1} − t_i). Fewer than 2 samples give 0. */
export function integrateTrapezoid(samples: readonly PowerSample[]): number {
  let joules = 0;
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1];
    const b = samples[i];
    if (a === undefined || b === undefined) continue;
    joules += ((a.watts + b.watts) / 2) * (b.t - a.t);
  }
  return joules;
}

/**
 * At most `maxPoints` points: consecutive samples are grouped into equal-count buckets and
 * each bucket becomes its mean time and mean power, so the shape and the level survive
 * (picking every k-th sample would alias periodic step patterns).
 */
export function downsampleTrace(samples: readonly PowerSample[], maxPoints: number = MAX_TRACE_POINTS): PowerSample[] {
  if (!Number.isInteger(maxPoints) || maxPoints < 1) throw new Error(`maxPoints must be a positive integer, got ${maxPoints}`);
  if (samples.length <= maxPoints) return samples.map((s) => ({ t: s.t, watts: s.watts }));
  const out: PowerSample[] = [];
  for (let b = 0; b < maxPoints; b++) {
    const from = Math.floor((b * samples.length) / maxPoints);
    const to = Math.floor(((b + 1) * samples.length) / maxPoints);
    let t = 0;
    let w = 0;
    for (let i = from; i < to; i++) {
      const s = samples[i];
      if (s === undefined) continue;
      t += s.t;
      w += s.watts;
    }
    const n = to - from;
    out.push({ t: t / n, watts: w / n });
  }
  return out;
}

export interface PowerSamplerOptions {
  /** polling rate, ≥ 10 Hz by default */
  hz?: number;
  /** called once per failed read; the sample is skipped and sampling goes on */
  onError?: (error: unknown) => void;
}

export interface PowerSampler {
  /** clears earlier samples, takes the first (t = 0) and starts the timer */
  start(): void;
  /** takes a last sample and stops the timer */
  stop(): void;
  /** takes a sample now (used at window edges and for joules-so-far) */
  sampleNow(): void;
  readonly running: boolean;
  readonly count: number;
  samples(): PowerSample[];
  /** trapezoid integral of the samples so far */
  joules(): number;
  /** longest interval between two samples, in seconds: a blocked event loop shows up here */
  maxGapSeconds(): number;
  readonly errors: number;
}

/**
 * Polls `readWatts` with setInterval. Samples go into growable Float64Arrays so a tick costs a
 * call to readWatts, one performance.now() and two stores. The timer is unref'd: it never
 * keeps the process alive. Sampling happens on the main thread, so a step that blocks the
 * event loop for longer than the period delays samples; times are the real read times, so
 * the integral stays correct but coarser (see maxGapSeconds).
 */
export function createPowerSampler(readWatts: () => number, options: PowerSamplerOptions = {}): PowerSampler {
  const hz = options.hz ?? DEFAULT_SAMPLE_HZ;
  if (!(hz > 0 && Number.isFinite(hz))) throw new Error(`sampling rate must be positive, got ${hz}`);
  const periodMs = 1000 / hz;
  let times = new Float64Array(1024);
  let watts = new Float64Array(1024);
  let n = 0;
  let t0 = 0;
  let timer: ReturnType<typeof setInterval> | null = null;
  let errors = 0;
  let joulesSoFar = 0; // running integral, so joules() is O(1)

  const sampleNow = (): void => {
    let w: number;
    try {
      w = readWatts();
    } catch (e) {
      errors++;
      options.onError?.(e);
      return;
    }
    if (!Number.isFinite(w)) {
      errors++;
      options.onError?.(new Error(`power reading is not finite: ${w}`));
      return;
    }
    const now = performance.now();
    if (n === 0) t0 = now; // the first good sample is t = 0, so the span integrated is [0, last t]
    const t = (now - t0) / 1000;
    if (n === times.length) {
      const grownT = new Float64Array(n * 2);
      const grownW = new Float64Array(n * 2);
      grownT.set(times);
      grownW.set(watts);
      times = grownT;
      watts = grownW;
    }
    if (n > 0) joulesSoFar += (((watts[n - 1] ?? 0) + w) / 2) * (t - (times[n - 1] ?? 0));
    times[n] = t;
    watts[n] = w;
    n++;
  };

  return {
    start() {
      if (timer !== null) throw new Error('sampler already running');
      n = 0;
      errors = 0;
      joulesSoFar = 0;
      sampleNow();
      timer = setInterval(sampleNow, periodMs);
      timer.unref();
    },
    stop() {
      if (timer === null) return;
      clearInterval(timer);
      timer = null;
      sampleNow();
    },
    sampleNow,
    get running() {
      return timer !== null;
    },
    get count() {
      return n;
    },
    samples() {
      const out: PowerSample[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = { t: times[i] ?? 0, watts: watts[i] ?? 0 };
      return out;
    },
    joules: () => joulesSoFar,
    maxGapSeconds() {
      let gap = 0;
      for (let i = 1; i < n; i++) gap = Math.max(gap, (times[i] ?? 0) - (times[i - 1] ?? 0));
      return gap;
    },
    get errors() {
      return errors;
    },
  };
}
