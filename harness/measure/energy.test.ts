import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { energyReading } from '../results/record.ts';
import { createEnergyMeter, describeEnergy } from './energy.ts';
import type { NvmlLibrary } from './nvml.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function nvmlOnThisMachine(): boolean {
  try {
    return execFileSync('ldconfig', ['-p'], { encoding: 'utf8' }).includes('libnvidia-ml.so.1');
  } catch {
    return false;
  }
}
const bareMachine = !existsSync('/sys/class/powercap') && !nvmlOnThisMachine();

describe.skipIf(!bareMachine)('on a machine without RAPL and without NVIDIA', () => {
  it('does not measure, and says why', () => {
    const meter = createEnergyMeter();
    expect(meter.method).toBeNull();
    expect(meter.reason).toBe(
      'no NVIDIA driver (libnvidia-ml.so.1 not found); no /sys/class/powercap: RAPL not exposed (container or VM): energy cannot be read on this machine',
    );
    meter.begin();
    expect(meter.sinceBegin()).toBeNull();
    const e = meter.end();
    expect(energyReading.parse(e)).toEqual({ measured: false, reason: meter.reason });
    expect(meter.trace()).toEqual([]);
    meter.dispose();
  });

  it('describeEnergy lists both meters tried', () => {
    const d = describeEnergy();
    expect(d.method).toBeNull();
    expect(d.message).toMatch(/^energy not measured: no NVIDIA driver/);
    expect(d.checks.map((c) => [c.method, c.ok])).toEqual([
      ['nvml-energy-counter', false],
      ['rapl', false],
    ]);
  });
});

/**
 * A powercap tree whose counters a timer advances at a settable power, split 40/60 over two
 * packages. The range is small (50 J) so the counters wrap every second or so at 60 W: a meter
 * that missed wraparound would be far off.
 */
const RANGE_UJ = 50_000_000;
const roots: string[] = [];
const timers: ReturnType<typeof setInterval>[] = [];
afterEach(() => {
  for (const t of timers.splice(0)) clearInterval(t);
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

function fakeRapl(initialWatts: number) {
  const root = mkdtempSync(join(tmpdir(), 'powercap-'));
  roots.push(root);
  const zones = [
    { id: 'intel-rapl:0', name: 'package-0', share: 0.4, uj: 49_000_000 },
    { id: 'intel-rapl:1', name: 'package-1', share: 0.6, uj: 3_000_000 },
    { id: 'intel-rapl:2', name: 'psys', share: 5, uj: 0 }, // must be ignored
  ];
  for (const z of zones) {
    mkdirSync(join(root, z.id));
    writeFileSync(join(root, z.id, 'name'), `${z.name}\n`);
    writeFileSync(join(root, z.id, 'max_energy_range_uj'), `${RANGE_UJ}\n`);
  }
  const state = { watts: initialWatts, totalJoules: 0 };
  let last = performance.now();
  const write = () => {
    const now = performance.now();
    const dt = (now - last) / 1000;
    last = now;
    state.totalJoules += state.watts * dt;
    for (const z of zones) {
      z.uj += z.share * state.watts * dt * 1e6;
      writeFileSync(join(root, z.id, 'energy_uj'), `${Math.floor(z.uj) % RANGE_UJ}\n`);
    }
  };
  write();
  timers.push(setInterval(write, 5));
  return { root, state };
}

const noNvml = { library: undefined, libraryPath: '/nonexistent/libnvidia-ml.so.1' };

describe('energy meter on a fake RAPL tree (real timers)', () => {
  it('measures idle, gross and net across counter wraparounds', async () => {
    const { root, state } = fakeRapl(10);
    const meter = createEnergyMeter({ powercapRoot: root, nvml: noNvml });
    expect(meter.method).toBe('rapl');
    expect(meter.devices).toBe('package-0+package-1');

    await meter.measureIdle(0.8);
    state.watts = 60;
    meter.begin();
    await sleep(700);
    const mid = meter.sinceBegin();
    await sleep(800);
    const e = meter.end();
    const after = meter.sinceBegin();
    const trace = meter.trace();
    meter.dispose();

    expect(energyReading.parse(e)).toEqual(e);
    if (!e.measured) throw new Error(e.reason);
    expect(e.method).toBe('rapl');
    expect(e.idleSeconds).toBeGreaterThan(0.75);
    expect(e.idleWatts).toBeGreaterThan(8);
    expect(e.idleWatts).toBeLessThan(12);
    expect(e.windowSeconds).toBeGreaterThan(1.45);
    expect(e.windowSeconds).toBeLessThan(2.5);
    // 60 W over the window: ~90 J, almost twice the 50 J range
    expect(e.grossJoules / e.windowSeconds).toBeGreaterThan(54);
    expect(e.grossJoules / e.windowSeconds).toBeLessThan(66);
    expect(e.netJoules).toBeCloseTo(e.grossJoules - e.idleWatts * e.windowSeconds, 9);
    expect(e.netJoules / e.windowSeconds).toBeGreaterThan(44);
    expect(e.netJoules / e.windowSeconds).toBeLessThan(56);
    // polled at 10 Hz (a loaded box may drop a few ticks)
    expect(e.samples).toBeGreaterThanOrEqual(Math.floor(e.windowSeconds * 10 * 0.6));

    expect(mid).not.toBeNull();
    expect(mid!).toBeGreaterThan(0.7 * 60 * 0.8);
    expect(mid!).toBeLessThan(e.grossJoules);
    expect(after).toBe(e.grossJoules);

    expect(trace.length).toBeGreaterThan(5);
    expect(trace.length).toBeLessThanOrEqual(200);
    const sorted = trace.map((p) => p.watts).sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    expect(median).toBeGreaterThan(50);
    expect(median).toBeLessThan(70);
    for (const p of trace) expect(p.watts).toBeGreaterThanOrEqual(0);
    // points lie in the window, in time order
    expect(trace[0]!.t).toBeGreaterThan(0);
    expect(trace.at(-1)!.t).toBeCloseTo(e.windowSeconds, 9);
    for (let i = 1; i < trace.length; i++) expect(trace[i]!.t).toBeGreaterThan(trace[i - 1]!.t);
  });

  it('without measureIdle reports idle 0 W over 0 s and net = gross', async () => {
    const { root } = fakeRapl(30);
    const meter = createEnergyMeter({ powercapRoot: root, nvml: noNvml });
    meter.begin();
    await sleep(300);
    const e = meter.end();
    meter.dispose();
    if (!e.measured) throw new Error(e.reason);
    expect(e.idleSeconds).toBe(0);
    expect(e.idleWatts).toBe(0);
    expect(e.netJoules).toBe(e.grossJoules);
    expect(e.grossJoules).toBeGreaterThan(0);
  });

  it('turns a counter that disappears mid-run into "not measured" with the reason', async () => {
    const { root } = fakeRapl(30);
    const meter = createEnergyMeter({ powercapRoot: root, nvml: noNvml });
    meter.begin();
    await sleep(150);
    for (const t of timers.splice(0)) clearInterval(t);
    rmSync(join(root, 'intel-rapl:1', 'energy_uj'));
    await sleep(250);
    const e = meter.end();
    meter.dispose();
    expect(e.measured).toBe(false);
    if (!e.measured) expect(e.reason).toMatch(/^rapl read failed: .*ENOENT/);
    expect(meter.trace()).toEqual([]);
  });

  it('refuses calls out of order', () => {
    const { root } = fakeRapl(30);
    const meter = createEnergyMeter({ powercapRoot: root, nvml: noNvml });
    expect(() => meter.end()).toThrow(/end\(\) while ready/);
    meter.begin();
    expect(() => meter.begin()).toThrow(/begin\(\) while running/);
    meter.end();
    meter.dispose();
  });
});

describe('meter choice', () => {
  const gpuLib: NvmlLibrary = {
    nvmlInit_v2: () => 0,
    nvmlShutdown: () => 0,
    nvmlDeviceGetCount_v2: (c) => {
      c[0] = 1;
      return 0;
    },
    nvmlDeviceGetHandleByIndex_v2: (_i, d) => {
      d[0] = {};
      return 0;
    },
    nvmlDeviceGetName: (_d, buf) => {
      buf.write('NVIDIA H200\0');
      return 0;
    },
    nvmlDeviceGetTotalEnergyConsumption: (_d, e) => {
      e[0] = 1000;
      return 0;
    },
    nvmlDeviceGetPowerUsage: (_d, p) => {
      p[0] = 100_000;
      return 0;
    },
  };

  it('prefers the NVML energy counter over RAPL', () => {
    const { root } = fakeRapl(10);
    const d = describeEnergy({ powercapRoot: root, nvml: { library: gpuLib } });
    expect([d.method, d.devices]).toEqual(['nvml-energy-counter', 'NVIDIA H200 ×1']);
  });

  it('uses only RAPL for a CPU run, even with a GPU present', () => {
    const { root } = fakeRapl(10);
    const d = describeEnergy({ target: 'cpu', powercapRoot: root, nvml: { library: gpuLib } });
    expect([d.method, d.devices]).toEqual(['rapl', 'package-0+package-1']);
  });

  it('does not fall back to RAPL for a GPU run', () => {
    const { root } = fakeRapl(10);
    const meter = createEnergyMeter({ target: 'gpu', powercapRoot: root, nvml: noNvml });
    expect(meter.method).toBeNull();
    expect(meter.reason).toMatch(/not found\): GPU energy cannot be read on this machine \(RAPL not used for a GPU run/);
  });
});
