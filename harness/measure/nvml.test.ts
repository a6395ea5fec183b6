import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { energyReading } from '../results/record.ts';
import { createEnergyMeter } from './energy.ts';
import { type NvmlLibrary, nvmlAvailability, nvmlDevices, openNvml } from './nvml.ts';

/** A JS stand-in following koffi's conventions: out-params are one-element arrays. */
function fakeLibrary(opts: { init?: number; count?: number; energy?: number; names?: string[] } = {}) {
  const calls: string[] = [];
  const names = opts.names ?? ['NVIDIA H200'];
  const handles = names.map((name, i) => ({ name, i }));
  const lib: NvmlLibrary = {
    nvmlInit_v2: () => {
      calls.push('init');
      return opts.init ?? 0;
    },
    nvmlShutdown: () => {
      calls.push('shutdown');
      return 0;
    },
    nvmlDeviceGetCount_v2: (c) => {
      c[0] = opts.count ?? names.length;
      return 0;
    },
    nvmlDeviceGetHandleByIndex_v2: (i, d) => {
      d[0] = handles[i];
      return handles[i] ? 0 : 2;
    },
    nvmlDeviceGetName: (d, buf, len) => {
      const h = d as (typeof handles)[number];
      if (len < Buffer.byteLength(h.name) + 1) return 7;
      buf.write(`${h.name}\0garbage`);
      return 0;
    },
    nvmlDeviceGetTotalEnergyConsumption: (d, e) => {
      if (opts.energy !== undefined) return opts.energy;
      e[0] = BigInt(1_000_000 + (d as (typeof handles)[number]).i);
      return 0;
    },
    nvmlDeviceGetPowerUsage: (_d, p) => {
      p[0] = 250_000;
      return 0;
    },
    nvmlErrorString: (rc) => (rc === 3 ? 'Not Supported' : rc === 9 ? 'Driver Not Loaded' : 'Unknown Error'),
  };
  return { lib, calls };
}

describe('openNvml', () => {
  it('reports a missing driver as a reason on this machine', () => {
    const r = openNvml();
    expect(r).toEqual({ ok: false, reason: 'no NVIDIA driver (libnvidia-ml.so.1 not found)' });
  });

  it('reads names up to the NUL, energy in mJ (BigInt or not) and power in mW', () => {
    const { lib, calls } = fakeLibrary({ names: ['NVIDIA H200', 'NVIDIA H200'] });
    const r = openNvml({ library: lib });
    if (!r.ok) throw new Error(r.reason);
    expect(r.nvml.devices.map((d) => d.name)).toEqual(['NVIDIA H200', 'NVIDIA H200']);
    expect(r.nvml.energyMj(r.nvml.devices[1]!)).toBe(1_000_001);
    expect(r.nvml.powerMw(r.nvml.devices[0]!)).toBe(250_000);
    expect(nvmlDevices(r.nvml.devices)).toBe('NVIDIA H200 ×2');
    r.nvml.close();
    r.nvml.close();
    expect(calls).toEqual(['init', 'shutdown']);
  });

  it('gives the driver error when nvmlInit_v2 fails', () => {
    const { lib } = fakeLibrary({ init: 9 });
    expect(openNvml({ library: lib })).toEqual({
      ok: false,
      reason: 'nvmlInit_v2 failed: Driver Not Loaded (NVML_ERROR_DRIVER_NOT_LOADED)',
    });
  });

  it('says when there are no GPUs, and shuts NVML down again', () => {
    const { lib, calls } = fakeLibrary({ count: 0 });
    expect(openNvml({ library: lib })).toEqual({ ok: false, reason: 'NVML is loaded but reports no GPUs' });
    expect(calls).toEqual(['init', 'shutdown']);
  });

  it('rejects a GPU index NVML does not have', () => {
    const { lib, calls } = fakeLibrary();
    const r = openNvml({ library: lib, indices: [1] });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/GPU index 1 out of range/);
    expect(calls.at(-1)).toBe('shutdown');
  });

  it('nvmlAvailability marks a GPU without the energy counter (pre-Volta)', () => {
    const { lib, calls } = fakeLibrary({ energy: 3 });
    const a = nvmlAvailability({ library: lib });
    expect(a.ok).toBe(true);
    if (!a.ok) return;
    expect(a.devices[0]).toMatchObject({ energyCounter: false, power: true });
    expect(a.devices[0]?.notes[0]).toMatch(/nvmlDeviceGetTotalEnergyConsumption: Not Supported/);
    expect(calls).toEqual(['init', 'shutdown']);
  });
});

/**
 * A stand-in libnvidia-ml.so.1 compiled from the nvml.h signatures, loaded through the real
 * koffi binding: checks the FFI declarations (opaque handles, out-params, the name buffer, a
 * 64-bit counter above 2^32) without a GPU.
 */
const FAKE_NVML_C = `
#include <string.h>
typedef struct nvmlDevice_st { int idx; } *nvmlDevice_t;
typedef int nvmlReturn_t;
static int inited = 0, energy_supported = 1;
static struct nvmlDevice_st devs[2];
static unsigned long long energy[2] = {5000000000123ULL, 7ULL};
nvmlReturn_t nvmlInit_v2(void) { inited++; return 0; }
nvmlReturn_t nvmlShutdown(void) { if (!inited) return 1; inited--; return 0; }
nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *c) { if (!inited) return 1; *c = 2; return 0; }
nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int i, nvmlDevice_t *d) {
  if (!inited) return 1; if (i >= 2) return 2; devs[i].idx = (int)i; *d = &devs[i]; return 0; }
static int valid(nvmlDevice_t d) { return d == &devs[0] || d == &devs[1]; }
nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t d, char *name, unsigned int len) {
  const char *n = "NVIDIA H200"; if (!valid(d)) return 2; if (len < strlen(n) + 1) return 7; strcpy(name, n); return 0; }
nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t d, unsigned long long *e) {
  if (!valid(d)) return 2; if (!energy_supported) return 3; *e = energy[d->idx]; energy[d->idx] += 250; return 0; }
nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t d, unsigned int *p) { if (!valid(d)) return 2; *p = 300000u + (unsigned)d->idx; return 0; }
const char *nvmlErrorString(nvmlReturn_t r) { return r == 3 ? "Not Supported" : "Unknown Error"; }
int fake_inited(void) { return inited; }
void fake_set_energy_supported(int on) { energy_supported = on; }
`;

function hasGcc(): boolean {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!hasGcc())('koffi binding against a compiled stand-in libnvidia-ml', () => {
  let dir = '';
  let so = '';
  let fake: { inited(): number; setEnergySupported(on: number): void };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fake-nvml-'));
    writeFileSync(join(dir, 'fake.c'), FAKE_NVML_C);
    so = join(dir, 'libnvidia-ml.so.1');
    execFileSync('gcc', ['-shared', '-fPIC', '-O1', '-o', so, join(dir, 'fake.c')]);
    const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
    const lib = koffi.load(so);
    fake = {
      inited: lib.func('int fake_inited()'),
      setEnergySupported: lib.func('void fake_set_energy_supported(int on)'),
    };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('marshals handles, names, the 64-bit energy counter and power', () => {
    const r = openNvml({ libraryPath: so });
    if (!r.ok) throw new Error(r.reason);
    expect(fake.inited()).toBe(1);
    const [d0, d1] = r.nvml.devices;
    expect(r.nvml.devices.map((d) => d.name)).toEqual(['NVIDIA H200', 'NVIDIA H200']);
    expect(r.nvml.energyMj(d0!)).toBe(5_000_000_000_123); // above 2^32: needs the uint64 out-param
    expect(r.nvml.energyMj(d0!)).toBe(5_000_000_000_373);
    expect(r.nvml.energyMj(d1!)).toBe(7);
    expect(r.nvml.powerMw(d1!)).toBe(300_001);
    r.nvml.close();
    expect(fake.inited()).toBe(0);
  });

  it('drives the energy meter by the NVML energy counter', async () => {
    const meter = createEnergyMeter({ nvml: { libraryPath: so }, powercapRoot: '/nonexistent' });
    expect(meter.method).toBe('nvml-energy-counter');
    expect(meter.devices).toBe('NVIDIA H200 ×2');
    meter.begin();
    await new Promise((r) => setTimeout(r, 350));
    const e = meter.end();
    meter.dispose();
    expect(energyReading.parse(e)).toEqual(e);
    if (!e.measured) throw new Error(e.reason);
    // every read adds 0.25 J per GPU: begin + ~3 polls + end
    expect(e.grossJoules).toBeGreaterThanOrEqual(0.5 * 2);
    expect(e.grossJoules % 0.5).toBeCloseTo(0, 9);
    expect(e.samples).toBeGreaterThanOrEqual(3);
    expect(fake.inited()).toBe(0);
  });

  it('falls back to sampled power when the energy counter is not supported', async () => {
    fake.setEnergySupported(0);
    try {
      const meter = createEnergyMeter({ nvml: { libraryPath: so }, powercapRoot: '/nonexistent' });
      expect(meter.method).toBe('nvml-power-sampled');
      meter.begin();
      await new Promise((r) => setTimeout(r, 400));
      const e = meter.end();
      meter.dispose();
      if (!e.measured) throw new Error(e.reason);
      // 300.000 W + 300.001 W
      expect(e.grossJoules / e.windowSeconds).toBeCloseTo(600.001, 6);
      expect(meter.trace().every((p) => Math.abs(p.watts - 600.001) < 1e-6)).toBe(true);
    } finally {
      fake.setEnergySupported(1);
    }
  });
});
