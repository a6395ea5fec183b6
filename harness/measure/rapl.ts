/**
 * RAPL energy counters through the Linux powercap interface.
 *
 * Layout (intel_rapl driver; AMD Zen uses the same driver and names):
 *   <root>/intel-rapl:N/name              "package-N" (or "psys" on client parts)
 *   <root>/intel-rapl:N/energy_uj         cumulative µJ, wraps at max_energy_range_uj
 *   <root>/intel-rapl:N/max_energy_range_uj
 *   <root>/intel-rapl:N:M/name            "core", "uncore", "dram" (sub-zones)
 * `intel-rapl-mmio:N` duplicates a package through MMIO and is skipped so a package is
 * never counted twice; `psys` covers the whole SoC and overlaps the packages, so it is
 * skipped too.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const DEFAULT_POWERCAP_ROOT = '/sys/class/powercap';

export interface RaplZone {
  /** directory name, e.g. 'intel-rapl:0' or 'intel-rapl:0:2' */
  id: string;
  /** the zone's own name: 'package-0', 'dram' */
  name: string;
  /** label used in the record: 'package-0', or 'package-0/dram' for a sub-zone */
  label: string;
  dir: string;
  /** the counter wraps modulo this many µJ */
  maxEnergyRangeUj: bigint;
}

export type RaplAvailability = { ok: true; root: string; zones: RaplZone[] } | { ok: false; reason: string };

export interface RaplOptions {
  /** also read the DRAM sub-zones of each package (Intel servers; AMD has none) */
  includeDram?: boolean;
}

/** Δ of a wrapping counter: (e2 − e1) mod range, for e1, e2 in [0, range]. */
export function raplDeltaUj(e1: bigint, e2: bigint, range: bigint): bigint {
  if (range <= 0n) throw new Error(`invalid RAPL range ${range}`);
  const d = (e2 - e1) % range;
  return d < 0n ? d + range : d;
}

function readText(path: string): string {
  return readFileSync(path, 'utf8').trim();
}

function errorCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

function readFailure(path: string, e: unknown): string {
  const code = errorCode(e);
  if (code === 'EACCES' || code === 'EPERM')
    return `RAPL counters exist but ${path} is readable only by root (Linux ≥ 5.10, CVE-2020-8694): run as root or grant read access to energy_uj`;
  return `cannot read ${path}: ${code ?? (e instanceof Error ? e.message : String(e))}`;
}

/**
 * Which package zones under `root` can be read, or why none can. Reads every counter once,
 * so a permission problem shows up here rather than mid-run.
 */
export function raplAvailability(root: string = DEFAULT_POWERCAP_ROOT, options: RaplOptions = {}): RaplAvailability {
  let entries: string[];
  try {
    if (!statSync(root).isDirectory()) return { ok: false, reason: `${root} is not a directory: RAPL not exposed` };
    entries = readdirSync(root);
  } catch (e) {
    const code = errorCode(e);
    if (code === 'ENOENT') return { ok: false, reason: `no ${root}: RAPL not exposed (container or VM)` };
    if (code === 'EACCES' || code === 'EPERM') return { ok: false, reason: `permission denied listing ${root}` };
    return { ok: false, reason: `cannot list ${root}: ${code ?? String(e)}` };
  }

  const zones: RaplZone[] = [];
  const skipped: string[] = [];
  const topLevel = entries.filter((n) => /^intel-rapl:\d+$/.test(n)).sort(byZoneNumber);
  for (const id of topLevel) {
    const dir = join(root, id);
    let name: string;
    try {
      name = readText(join(dir, 'name'));
    } catch (e) {
      return { ok: false, reason: readFailure(join(dir, 'name'), e) };
    }
    if (!/^package-\d+$/.test(name)) {
      skipped.push(`${id} (${name})`); // psys and anything unknown
      continue;
    }
    const pkg = zoneAt(dir, id, name, name);
    if ('reason' in pkg) return { ok: false, reason: pkg.reason };
    zones.push(pkg);
    if (options.includeDram) {
      // Sub-zones sit both inside the package directory and at the top level; read the top level.
      for (const sub of entries.filter((n) => n.startsWith(`${id}:`)).sort(byZoneNumber)) {
        const subDir = join(root, sub);
        let subName: string;
        try {
          subName = readText(join(subDir, 'name'));
        } catch {
          continue;
        }
        if (subName !== 'dram') continue;
        const dram = zoneAt(subDir, sub, subName, `${name}/dram`);
        if ('reason' in dram) return { ok: false, reason: dram.reason };
        zones.push(dram);
      }
    }
  }
  if (zones.length === 0) {
    const seen = topLevel.length ? `found only ${skipped.join(', ')}` : `found ${entries.length ? entries.join(', ') : 'nothing'}`;
    return { ok: false, reason: `no RAPL package zones under ${root} (${seen})` };
  }
  return { ok: true, root, zones };
}

function zoneAt(dir: string, id: string, name: string, label: string): RaplZone | { reason: string } {
  const rangePath = join(dir, 'max_energy_range_uj');
  const energyPath = join(dir, 'energy_uj');
  let maxEnergyRangeUj: bigint;
  try {
    maxEnergyRangeUj = BigInt(readText(rangePath));
  } catch (e) {
    return { reason: e instanceof SyntaxError ? `${rangePath} is not an integer` : readFailure(rangePath, e) };
  }
  if (maxEnergyRangeUj <= 0n) return { reason: `${rangePath} is ${maxEnergyRangeUj}` };
  try {
    BigInt(readText(energyPath));
  } catch (e) {
    return { reason: e instanceof SyntaxError ? `${energyPath} is not an integer` : readFailure(energyPath, e) };
  }
  return { id, name, label, dir, maxEnergyRangeUj };
}

function byZoneNumber(a: string, b: string): number {
  const na = a.split(':').slice(1).map(Number);
  const nb = b.split(':').slice(1).map(Number);
  for (let i = 0; i < Math.max(na.length, nb.length); i++) {
    const d = (na[i] ?? -1) - (nb[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

export interface RaplReader {
  readonly zones: readonly RaplZone[];
  /** raw energy_uj per zone, in zone order */
  read(): bigint[];
}

export function createRaplReader(zones: readonly RaplZone[]): RaplReader {
  const paths = zones.map((z) => join(z.dir, 'energy_uj'));
  return {
    zones,
    read: () => paths.map((p) => BigInt(readText(p))),
  };
}

/**
 * A monotone joule total over wrapping counters. Call poll() more often than the fastest
 * zone can wrap (a 262 kJ range at 400 W wraps in ~11 min; the energy meter polls at 10 Hz).
 */
export interface RaplCounter {
  readonly reader: RaplReader;
  /** read the counters and fold the wrap-corrected deltas in; returns total joules since creation */
  poll(): number;
  /** total joules since creation as of the last poll */
  readonly joules: number;
}

export function createRaplCounter(reader: RaplReader): RaplCounter {
  let last = reader.read();
  // Accumulate in µJ as bigint so long runs do not lose precision.
  let totalUj = 0n;
  return {
    reader,
    poll() {
      const now = reader.read();
      for (let i = 0; i < now.length; i++) {
        const zone = reader.zones[i];
        const a = last[i];
        const b = now[i];
        if (zone === undefined || a === undefined || b === undefined) continue;
        totalUj += raplDeltaUj(a, b, zone.maxEnergyRangeUj);
      }
      last = now;
      return Number(totalUj) / 1e6;
    },
    get joules() {
      return Number(totalUj) / 1e6;
    },
  };
}

/** 'package-0+package-1' */
export function raplDevices(zones: readonly RaplZone[]): string {
  return zones.map((z) => z.label).join('+');
}
