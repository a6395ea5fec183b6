import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createRaplCounter, createRaplReader, raplAvailability, raplDeltaUj, raplDevices } from './rapl.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function zone(root: string, id: string, name: string, energyUj: bigint | number, rangeUj: bigint | number): void {
  mkdirSync(join(root, id), { recursive: true });
  writeFileSync(join(root, id, 'name'), `${name}\n`);
  writeFileSync(join(root, id, 'energy_uj'), `${energyUj}\n`);
  writeFileSync(join(root, id, 'max_energy_range_uj'), `${rangeUj}\n`);
}

const RANGE = 262143328850n; // a real Intel package range

/** Two packages, a DRAM sub-zone, psys, and an MMIO duplicate of package-0. */
function fakePowercap(): string {
  const root = mkdtempSync(join(tmpdir(), 'powercap-'));
  dirs.push(root);
  zone(root, 'intel-rapl:0', 'package-0', 1_000_000n, RANGE);
  zone(root, 'intel-rapl:0:0', 'dram', 500_000n, 65712999613n);
  zone(root, 'intel-rapl:1', 'package-1', 2_000_000n, RANGE);
  zone(root, 'intel-rapl:2', 'psys', 9_000_000n, RANGE);
  zone(root, 'intel-rapl-mmio:0', 'package-0', 1_000_000n, RANGE);
  return root;
}

const setEnergy = (root: string, id: string, uj: bigint) => writeFileSync(join(root, id, 'energy_uj'), `${uj}\n`);

describe('raplDeltaUj', () => {
  it('is the plain difference without wraparound', () => {
    expect(raplDeltaUj(100n, 350n, 1000n)).toBe(250n);
  });
  it('adds the range back on wraparound', () => {
    expect(raplDeltaUj(RANGE - 100n, 50n, RANGE)).toBe(150n);
  });
  it('is zero for an unchanged counter', () => {
    expect(raplDeltaUj(7n, 7n, 1000n)).toBe(0n);
  });
});

describe('raplAvailability', () => {
  it('finds the two package zones and skips dram, psys and the MMIO duplicate', () => {
    const root = fakePowercap();
    const a = raplAvailability(root);
    expect(a.ok).toBe(true);
    if (!a.ok) return;
    expect(a.zones.map((z) => [z.id, z.name])).toEqual([
      ['intel-rapl:0', 'package-0'],
      ['intel-rapl:1', 'package-1'],
    ]);
    expect(a.zones[0]?.maxEnergyRangeUj).toBe(RANGE);
    expect(raplDevices(a.zones)).toBe('package-0+package-1');
  });

  it('adds the DRAM sub-zone when asked', () => {
    const a = raplAvailability(fakePowercap(), { includeDram: true });
    expect(a.ok && raplDevices(a.zones)).toBe('package-0+package-0/dram+package-1');
  });

  it('says the directory is absent', () => {
    const a = raplAvailability('/nonexistent/powercap');
    expect(a).toEqual({ ok: false, reason: 'no /nonexistent/powercap: RAPL not exposed (container or VM)' });
  });

  it('says when there are zones but no package zone', () => {
    const root = mkdtempSync(join(tmpdir(), 'powercap-'));
    dirs.push(root);
    zone(root, 'intel-rapl:0', 'psys', 1n, RANGE);
    const a = raplAvailability(root);
    expect(a.ok).toBe(false);
    if (!a.ok) expect(a.reason).toMatch(/no RAPL package zones .*intel-rapl:0 \(psys\)/);
  });

  it('says when the powercap directory holds no RAPL zones at all', () => {
    const root = mkdtempSync(join(tmpdir(), 'powercap-'));
    dirs.push(root);
    const a = raplAvailability(root);
    expect(a.ok).toBe(false);
    if (!a.ok) expect(a.reason).toMatch(/no RAPL package zones under .* \(found nothing\)/);
  });

  // root reads any file whatever its mode, so this can only be checked as a normal user
  it.skipIf(process.getuid?.() === 0)('says when energy_uj is root-only', () => {
    const root = fakePowercap();
    chmodSync(join(root, 'intel-rapl:0', 'energy_uj'), 0o400);
    const a = raplAvailability(root);
    expect(a.ok).toBe(false);
    if (!a.ok) expect(a.reason).toMatch(/readable only by root/);
  });

  it('rejects a counter that is not a number', () => {
    const root = fakePowercap();
    writeFileSync(join(root, 'intel-rapl:1', 'energy_uj'), 'garbage\n');
    const a = raplAvailability(root);
    expect(a.ok).toBe(false);
    if (!a.ok) expect(a.reason).toMatch(/intel-rapl:1\/energy_uj is not an integer/);
  });
});

describe('RAPL reader and counter', () => {
  it('reads raw counters per zone', () => {
    const root = fakePowercap();
    const a = raplAvailability(root);
    if (!a.ok) throw new Error(a.reason);
    expect(createRaplReader(a.zones).read()).toEqual([1_000_000n, 2_000_000n]);
  });

  it('sums both packages and gets the right Δ across a wraparound', () => {
    const root = fakePowercap();
    setEnergy(root, 'intel-rapl:0', RANGE - 3_000_000n); // 3 J before the wrap
    const a = raplAvailability(root);
    if (!a.ok) throw new Error(a.reason);
    const counter = createRaplCounter(createRaplReader(a.zones));
    expect(counter.joules).toBe(0);

    setEnergy(root, 'intel-rapl:0', 2_000_000n); // wrapped: 3 J + 2 J = 5 J
    setEnergy(root, 'intel-rapl:1', 2_000_000n + 7_500_000n); // 7.5 J
    expect(counter.poll()).toBeCloseTo(12.5, 9);

    setEnergy(root, 'intel-rapl:0', 4_000_000n); // +2 J
    expect(counter.poll()).toBeCloseTo(14.5, 9);
    expect(counter.joules).toBeCloseTo(14.5, 9);
  });
});
