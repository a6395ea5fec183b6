/**
 * The energy meter the training loop uses, shaped like Zeus's measurement windows:
 *
 *   const meter = createEnergyMeter({ target: 'gpu' });
 *   await meter.measureIdle(5);   // idle power before the run
 *   meter.begin();                // after a device sync
 *   ... meter.sinceBegin() at eval points ...
 *   const energy = meter.end();   // after a device sync: record.energy
 *   const powerTrace = meter.trace();
 *   meter.dispose();
 *
 * Sources, in order: NVML total-energy counter → NVML power sampled at ≥ 10 Hz and integrated
 * → RAPL package counters → none. Where none works the reading says so and why; there is no
 * TDP estimate anywhere here.
 */
import { type EnergyReading, energyReading } from '../results/record.ts';
import { type NvmlDeviceCapabilities, type NvmlOptions, type NvmlSession, nvmlDevices, openNvml, probeNvml } from './nvml.ts';
import { createRaplCounter, createRaplReader, DEFAULT_POWERCAP_ROOT, raplAvailability, raplDevices } from './rapl.ts';
import {
  createPowerSampler,
  DEFAULT_SAMPLE_HZ,
  downsampleTrace,
  MAX_TRACE_POINTS,
  type PowerSample,
  type PowerSampler,
} from './sampler.ts';

export type EnergyMethod = Extract<EnergyReading, { measured: true }>['method'];

export interface EnergyMeterOptions {
  /**
   * What ran the training. 'gpu': NVML only (RAPL would miss the GPU); 'cpu': RAPL only
   * (NVML would meter an idle GPU); 'auto' (default): NVML, then RAPL.
   */
  target?: 'auto' | 'gpu' | 'cpu';
  /** powercap root; tests point this at a fake tree */
  powercapRoot?: string;
  /** add the packages' DRAM zones to RAPL */
  includeDram?: boolean;
  /** NVML options (an injected library for tests), or false to skip NVML */
  nvml?: NvmlOptions | false;
  /** polling rate for counters (wraparound, trace) and for sampled power */
  hz?: number;
}

export interface EnergyCheck {
  method: EnergyMethod;
  ok: boolean;
  detail: string;
}

/** A counter gives cumulative joules; a power source gives watts to be integrated. */
type Source =
  | { kind: 'counter'; method: 'nvml-energy-counter' | 'rapl'; devices: string; readJoules(): number; close(): void }
  | { kind: 'power'; method: 'nvml-power-sampled'; devices: string; readWatts(): number; close(): void };

type Selection = { source: Source; checks: EnergyCheck[] } | { source: null; reason: string; checks: EnergyCheck[] };

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function selectSource(options: EnergyMeterOptions): Selection {
  const target = options.target ?? 'auto';
  const checks: EnergyCheck[] = [];
  const reasons: string[] = [];

  if (target !== 'cpu' && options.nvml !== false) {
    const nvmlSource = trySelectNvml(options.nvml || {}, checks);
    if ('source' in nvmlSource) return { source: nvmlSource.source, checks };
    reasons.push(nvmlSource.reason);
  }

  if (target !== 'gpu') {
    const root = options.powercapRoot ?? DEFAULT_POWERCAP_ROOT;
    const rapl = raplAvailability(root, { includeDram: options.includeDram ?? false });
    if (rapl.ok) {
      try {
        const counter = createRaplCounter(createRaplReader(rapl.zones));
        const devices = raplDevices(rapl.zones);
        checks.push({ method: 'rapl', ok: true, detail: `${devices} under ${root}` });
        return {
          source: { kind: 'counter', method: 'rapl', devices, readJoules: () => counter.poll(), close: () => {} },
          checks,
        };
      } catch (e) {
        checks.push({ method: 'rapl', ok: false, detail: message(e) });
        reasons.push(`RAPL: ${message(e)}`);
      }
    } else {
      checks.push({ method: 'rapl', ok: false, detail: rapl.reason });
      reasons.push(rapl.reason);
    }
  }

  const what = target === 'gpu' ? 'GPU energy' : target === 'cpu' ? 'CPU energy' : 'energy';
  const skipped =
    target === 'gpu'
      ? ' (RAPL not used for a GPU run: it would miss the GPU)'
      : target === 'cpu'
        ? ' (NVML not used for a CPU run: it would meter an idle GPU)'
        : options.nvml === false
          ? ' (NVML disabled)'
          : '';
  const reason = `${reasons.join('; ')}: ${what} cannot be read on this machine${skipped}`;
  return { source: null, reason, checks };
}

function trySelectNvml(nvmlOptions: NvmlOptions, checks: EnergyCheck[]): { source: Source } | { reason: string } {
  const opened = openNvml(nvmlOptions);
  if (!opened.ok) {
    checks.push({ method: 'nvml-energy-counter', ok: false, detail: opened.reason });
    return { reason: opened.reason };
  }
  const nvml = opened.nvml;
  const caps = probeNvml(nvml);
  const devices = nvmlDevices(nvml.devices);
  if (caps.every((c) => c.energyCounter)) {
    checks.push({ method: 'nvml-energy-counter', ok: true, detail: devices });
    return { source: nvmlCounterSource(nvml, devices) };
  }
  checks.push({ method: 'nvml-energy-counter', ok: false, detail: capabilityNotes(caps, 'energyCounter') });
  if (caps.every((c) => c.power)) {
    checks.push({ method: 'nvml-power-sampled', ok: true, detail: devices });
    return { source: nvmlPowerSource(nvml, devices) };
  }
  const detail = capabilityNotes(caps, 'power');
  checks.push({ method: 'nvml-power-sampled', ok: false, detail });
  nvml.close();
  return { reason: `NVML found ${devices} but can read neither its energy counter nor its power (${detail})` };
}

function capabilityNotes(caps: readonly NvmlDeviceCapabilities[], key: 'energyCounter' | 'power'): string {
  return caps
    .filter((c) => !c[key])
    .map((c) => `GPU ${c.index} ${c.name}: ${c.notes.join('; ')}`)
    .join('; ');
}

function nvmlCounterSource(nvml: NvmlSession, devices: string): Source {
  // Counted from the first read so joules stay small numbers; the counter is 64-bit mJ and
  // does not wrap in practice.
  const base = nvml.devices.map((d) => nvml.energyMj(d));
  return {
    kind: 'counter',
    method: 'nvml-energy-counter',
    devices,
    readJoules() {
      let mj = 0;
      nvml.devices.forEach((d, i) => {
        mj += nvml.energyMj(d) - (base[i] ?? 0);
      });
      return mj / 1000;
    },
    close: () => nvml.close(),
  };
}

function nvmlPowerSource(nvml: NvmlSession, devices: string): Source {
  return {
    kind: 'power',
    method: 'nvml-power-sampled',
    devices,
    readWatts() {
      let mw = 0;
      for (const d of nvml.devices) mw += nvml.powerMw(d);
      return mw / 1000;
    },
    close: () => nvml.close(),
  };
}

export interface EnergyMeter {
  /** the method in use, or null where energy cannot be measured */
  readonly method: EnergyMethod | null;
  /** what is metered ('NVIDIA H200 ×1', 'package-0+package-1'), or null */
  readonly devices: string | null;
  /** why energy is not measured, or null when it is */
  readonly reason: string | null;
  /** measures idle power for `seconds` before the run; resolves at once when nothing can be read */
  measureIdle(seconds: number): Promise<void>;
  /** opens the window (call after a device sync) */
  begin(): void;
  /** closes the window (call after a device sync) and returns record.energy */
  end(): EnergyReading;
  /** gross joules since begin() (frozen at end()), or null where not measured or before begin() */
  sinceBegin(): number | null;
  /** the window's power, downsampled to ≤ 200 points; empty where not measured */
  trace(): { t: number; watts: number }[];
  /** stops timers and releases NVML; idempotent */
  dispose(): void;
}

type Phase = 'ready' | 'idle' | 'running' | 'ended' | 'disposed';

export function createEnergyMeter(options: EnergyMeterOptions = {}): EnergyMeter {
  const hz = options.hz ?? DEFAULT_SAMPLE_HZ;
  const selection = selectSource(options);
  if (selection.source === null) return unmeasuredMeter(selection.reason);
  const source = selection.source;
  return source.kind === 'counter' ? counterMeter(source, hz) : powerMeter(source, hz);
}

/** A meter that measures nothing, saying why (a validation's steps, where no energy is recorded). */
export function unmeasuredMeter(reason: string): EnergyMeter {
  return {
    method: null,
    devices: null,
    reason,
    measureIdle: async () => {},
    begin() {},
    end: () => ({ measured: false, reason }),
    sinceBegin: () => null,
    trace: () => [],
    dispose() {},
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Builds the reading, and refuses to hand out one that the record schema would reject. */
function reading(
  method: EnergyMethod,
  devices: string,
  gross: number,
  idle: { watts: number; seconds: number },
  windowSeconds: number,
  samples: number,
): EnergyReading {
  const r: EnergyReading = {
    measured: true,
    method,
    devices,
    grossJoules: gross,
    idleWatts: idle.watts,
    idleSeconds: idle.seconds,
    netJoules: gross - idle.watts * windowSeconds,
    windowSeconds,
    samples,
  };
  const checked = energyReading.safeParse(r);
  return checked.success
    ? checked.data
    : { measured: false, reason: `${method} gave an invalid reading: ${checked.error.issues.map((i) => i.message).join('; ')}` };
}

function assertPhase(phase: Phase, allowed: Phase[], call: string): void {
  if (!allowed.includes(phase)) throw new Error(`energy meter: ${call}() while ${phase}`);
}

/** Counter sources (NVML energy, RAPL): gross = counter difference; power in the trace = Δcounter/Δt per poll. */
function counterMeter(source: Extract<Source, { kind: 'counter' }>, hz: number): EnergyMeter {
  let phase: Phase = 'ready';
  let timer: ReturnType<typeof setInterval> | null = null;
  let failure: string | null = null;
  let idle = { watts: 0, seconds: 0 };
  let tBegin = 0;
  let jBegin = 0;
  let lastT = 0;
  let lastJ = 0;
  let samples = 0;
  let final: EnergyReading | null = null;
  const points: PowerSample[] = [];

  /** one read; in the window it also adds a trace point */
  const poll = (): boolean => {
    if (failure !== null) return false;
    let j: number;
    try {
      j = source.readJoules();
    } catch (e) {
      failure = `${source.method} read failed: ${message(e)}`;
      stopTimer();
      return false;
    }
    const t = performance.now();
    if (j < lastJ) {
      failure = `${source.method} counter went backwards (${lastJ} → ${j} J; driver reloaded?)`;
      stopTimer();
      return false;
    }
    if (phase === 'running' && t > lastT) {
      points.push({ t: (t - tBegin) / 1000, watts: (j - lastJ) / ((t - lastT) / 1000) });
      samples++;
    }
    lastT = t;
    lastJ = j;
    return true;
  };
  const startTimer = () => {
    timer = setInterval(poll, 1000 / hz);
    timer.unref(); // never keep the process alive
  };
  const stopTimer = () => {
    if (timer !== null) clearInterval(timer);
    timer = null;
  };

  return {
    method: source.method,
    devices: source.devices,
    reason: null,
    async measureIdle(seconds) {
      assertPhase(phase, ['ready'], 'measureIdle');
      if (!(seconds > 0)) return;
      phase = 'idle';
      if (!poll()) {
        phase = 'ready';
        return;
      }
      const t0 = lastT;
      const j0 = lastJ;
      startTimer(); // polls during idle catch RAPL wraparound
      await sleep(seconds * 1000);
      if ((phase as Phase) === 'disposed') return; // dispose() ran during the wait
      stopTimer();
      phase = 'ready';
      if (!poll()) return;
      const dt = (lastT - t0) / 1000;
      idle = { watts: dt > 0 ? (lastJ - j0) / dt : 0, seconds: dt };
    },
    begin() {
      assertPhase(phase, ['ready'], 'begin');
      points.length = 0;
      samples = 0;
      const ok = poll(); // before 'running': the time since the last poll is not the window's
      phase = 'running';
      if (ok) {
        tBegin = lastT;
        jBegin = lastJ;
        samples = 1;
        startTimer();
      }
    },
    end() {
      assertPhase(phase, ['running'], 'end');
      poll();
      stopTimer();
      phase = 'ended';
      final =
        failure !== null
          ? { measured: false, reason: failure }
          : reading(source.method, source.devices, lastJ - jBegin, idle, (lastT - tBegin) / 1000, samples);
      return final;
    },
    sinceBegin() {
      if (phase === 'ended') return final?.measured ? final.grossJoules : null;
      if (phase !== 'running' || !poll()) return null;
      return lastJ - jBegin;
    },
    trace: () => (failure !== null ? [] : downsampleTrace(points, MAX_TRACE_POINTS)),
    dispose() {
      stopTimer();
      if (phase !== 'disposed') source.close();
      phase = 'disposed';
    },
  };
}

/** Power sources (NVML power): gross = trapezoid integral of samples at ≥ 10 Hz. */
function powerMeter(source: Extract<Source, { kind: 'power' }>, hz: number): EnergyMeter {
  let phase: Phase = 'ready';
  let failure: string | null = null;
  let idle = { watts: 0, seconds: 0 };
  let final: EnergyReading | null = null;
  let errors = 0;
  const onError = (e: unknown) => {
    errors++;
    failure ??= `${source.method} read failed: ${message(e)}`;
  };
  const sampler: PowerSampler = createPowerSampler(() => source.readWatts(), { hz, onError });
  let windowSamples: PowerSample[] = [];

  return {
    method: source.method,
    devices: source.devices,
    reason: null,
    async measureIdle(seconds) {
      assertPhase(phase, ['ready'], 'measureIdle');
      if (!(seconds > 0)) return;
      phase = 'idle';
      sampler.start();
      await sleep(seconds * 1000);
      if ((phase as Phase) === 'disposed') return; // dispose() ran during the wait
      sampler.stop();
      phase = 'ready';
      const s = sampler.samples();
      const dt = s.length > 1 ? (s[s.length - 1]?.t ?? 0) : 0;
      if (failure === null && dt > 0) idle = { watts: sampler.joules() / dt, seconds: dt };
      failure = null; // an idle hiccup does not spoil the run; the idle figure stays 0 s
      errors = 0;
    },
    begin() {
      assertPhase(phase, ['ready'], 'begin');
      phase = 'running';
      sampler.start();
    },
    end() {
      assertPhase(phase, ['running'], 'end');
      sampler.stop();
      phase = 'ended';
      windowSamples = sampler.samples();
      const windowSeconds = windowSamples[windowSamples.length - 1]?.t ?? 0;
      // A missed sample only widens the gap the trapezoid spans; many failures mean no reading.
      if (failure !== null && errors > windowSamples.length / 10)
        final = { measured: false, reason: `${failure} (${errors} of ${errors + windowSamples.length} reads failed)` };
      else if (windowSamples.length < 2) final = { measured: false, reason: `${source.method}: fewer than 2 power samples in the window` };
      else final = reading(source.method, source.devices, sampler.joules(), idle, windowSeconds, windowSamples.length);
      return final;
    },
    sinceBegin() {
      if (phase === 'ended') return final?.measured ? final.grossJoules : null;
      if (phase !== 'running') return null;
      sampler.sampleNow();
      return sampler.joules();
    },
    trace() {
      if (phase === 'running') return downsampleTrace(sampler.samples(), MAX_TRACE_POINTS);
      if (phase === 'ended' && final?.measured) return downsampleTrace(windowSamples, MAX_TRACE_POINTS);
      return [];
    },
    dispose() {
      sampler.stop();
      if (phase !== 'disposed') source.close();
      phase = 'disposed';
    },
  };
}

export interface EnergyDescription {
  /** the meter a run would use, or null */
  method: EnergyMethod | null;
  devices: string | null;
  /** one line for `middlepath doctor` */
  message: string;
  /** every meter tried, in order, with what it found */
  checks: EnergyCheck[];
}

/** Which energy meter works here, or why none does. Opens and closes NVML; starts no timers. */
export function describeEnergy(options: EnergyMeterOptions = {}): EnergyDescription {
  const selection = selectSource(options);
  if (selection.source === null)
    return { method: null, devices: null, message: `energy not measured: ${selection.reason}`, checks: selection.checks };
  const { method, devices } = selection.source;
  selection.source.close();
  return { method, devices, message: `energy measured by ${method} on ${devices}`, checks: selection.checks };
}
