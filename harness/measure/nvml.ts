/**
 * NVML (libnvidia-ml.so.1) through koffi: device names, the total-energy counter and power.
 *
 * Signatures, from nvml.h (nvmlReturn_t is a C enum, i.e. int; nvmlDevice_t is an opaque
 * `struct nvmlDevice_st *`):
 *   nvmlReturn_t nvmlInit_v2(void);
 *   nvmlReturn_t nvmlShutdown(void);
 *   nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *deviceCount);
 *   nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device);
 *   nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned int length);
 *   nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t device, unsigned long long *energy); // mJ since driver load, Volta+
 *   nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned int *power);                  // mW
 *   const char *nvmlErrorString(nvmlReturn_t result);
 *
 * koffi and the library are loaded on first use, never at import: a machine without an
 * NVIDIA driver is a normal case and gets a reason, not an exception.
 */
import { createRequire } from 'node:module';

export const NVML_LIBRARY = 'libnvidia-ml.so.1';
/** NVML_DEVICE_NAME_V2_BUFFER_SIZE */
const NAME_BUFFER_SIZE = 96;

const NVML_SUCCESS = 0;
/** nvmlReturn_t values, for messages when nvmlErrorString is unavailable */
const NVML_ERRORS: Record<number, string> = {
  1: 'NVML_ERROR_UNINITIALIZED',
  2: 'NVML_ERROR_INVALID_ARGUMENT',
  3: 'NVML_ERROR_NOT_SUPPORTED',
  4: 'NVML_ERROR_NO_PERMISSION',
  5: 'NVML_ERROR_ALREADY_INITIALIZED',
  6: 'NVML_ERROR_NOT_FOUND',
  7: 'NVML_ERROR_INSUFFICIENT_SIZE',
  8: 'NVML_ERROR_INSUFFICIENT_POWER',
  9: 'NVML_ERROR_DRIVER_NOT_LOADED',
  10: 'NVML_ERROR_TIMEOUT',
  11: 'NVML_ERROR_IRQ_ISSUE',
  12: 'NVML_ERROR_LIBRARY_NOT_FOUND',
  13: 'NVML_ERROR_FUNCTION_NOT_FOUND',
  14: 'NVML_ERROR_CORRUPTED_INFOROM',
  15: 'NVML_ERROR_GPU_IS_LOST',
  16: 'NVML_ERROR_RESET_REQUIRED',
  17: 'NVML_ERROR_OPERATING_SYSTEM',
  18: 'NVML_ERROR_LIB_RM_VERSION_MISMATCH',
  19: 'NVML_ERROR_IN_USE',
  20: 'NVML_ERROR_MEMORY',
  21: 'NVML_ERROR_NO_DATA',
  999: 'NVML_ERROR_UNKNOWN',
};
export const NVML_ERROR_NOT_SUPPORTED = 3;

/**
 * The C functions as koffi exposes them: out-parameters are one-element arrays that the call
 * fills in, the name is a caller-owned Buffer, handles are opaque values. Tests inject a fake
 * with the same conventions; the real one comes from bindNvmlLibrary().
 */
export interface NvmlLibrary {
  nvmlInit_v2(): number;
  nvmlShutdown(): number;
  nvmlDeviceGetCount_v2(count: [number]): number;
  nvmlDeviceGetHandleByIndex_v2(index: number, device: [unknown]): number;
  nvmlDeviceGetName(device: unknown, name: Buffer, length: number): number;
  nvmlDeviceGetTotalEnergyConsumption(device: unknown, energy: [number | bigint]): number;
  nvmlDeviceGetPowerUsage(device: unknown, power: [number]): number;
  nvmlErrorString?(result: number): string;
}

export class NvmlError extends Error {
  constructor(
    readonly call: string,
    readonly code: number,
    message: string,
  ) {
    super(`${call}: ${message}`);
    this.name = 'NvmlError';
  }
}

function errorText(lib: NvmlLibrary, code: number): string {
  const name = NVML_ERRORS[code] ?? `nvmlReturn_t ${code}`;
  try {
    const s = lib.nvmlErrorString?.(code);
    if (s) return `${s} (${name})`;
  } catch {
    // a message is a nicety; the code is enough
  }
  return name;
}

// koffi registers type names globally: declare them once per process.
let koffiTypes: { koffi: typeof import('koffi'); device: unknown } | null = null;

function loadKoffi(): { koffi: typeof import('koffi'); device: unknown } {
  if (koffiTypes) return koffiTypes;
  const require = createRequire(import.meta.url);
  const koffi = require('koffi') as typeof import('koffi');
  const device = koffi.pointer('nvmlDevice_t', koffi.opaque('nvmlDevice_st'));
  koffiTypes = { koffi, device };
  return koffiTypes;
}

/** Loads the shared library and binds the functions above. Throws when it cannot. */
export function bindNvmlLibrary(path: string = NVML_LIBRARY): NvmlLibrary {
  const { koffi } = loadKoffi();
  const lib = koffi.load(path);
  const f = (decl: string) => lib.func(decl);
  const bound: NvmlLibrary = {
    nvmlInit_v2: f('int nvmlInit_v2()'),
    nvmlShutdown: f('int nvmlShutdown()'),
    nvmlDeviceGetCount_v2: f('int nvmlDeviceGetCount_v2(_Out_ unsigned int *deviceCount)'),
    nvmlDeviceGetHandleByIndex_v2: f('int nvmlDeviceGetHandleByIndex_v2(unsigned int index, _Out_ nvmlDevice_t *device)'),
    nvmlDeviceGetName: f('int nvmlDeviceGetName(nvmlDevice_t device, _Out_ uint8_t *name, unsigned int length)'),
    nvmlDeviceGetTotalEnergyConsumption: f('int nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t device, _Out_ uint64_t *energy)'),
    nvmlDeviceGetPowerUsage: f('int nvmlDeviceGetPowerUsage(nvmlDevice_t device, _Out_ unsigned int *power)'),
  };
  try {
    bound.nvmlErrorString = f('const char *nvmlErrorString(int result)');
  } catch {
    // very old drivers: codes are named from the table instead
  }
  return bound;
}

export interface NvmlDevice {
  index: number;
  name: string;
  handle: unknown;
}

export interface NvmlSession {
  readonly devices: readonly NvmlDevice[];
  /** total energy since the driver loaded, in mJ; throws NvmlError */
  energyMj(device: NvmlDevice): number;
  /** current power in mW (a ~1 s average on Ampere and newer); throws NvmlError */
  powerMw(device: NvmlDevice): number;
  /** nvmlShutdown; idempotent */
  close(): void;
}

export type NvmlOpen = { ok: true; nvml: NvmlSession } | { ok: false; reason: string };

export interface NvmlOptions {
  /** an already bound library (tests); default: bindNvmlLibrary(libraryPath) */
  library?: NvmlLibrary;
  libraryPath?: string;
  /** NVML indices to use; default all. NVML ignores CUDA_VISIBLE_DEVICES. */
  indices?: readonly number[];
}

/** nvmlInit_v2 and the device list, or the reason there is none. Close the session after use. */
export function openNvml(options: NvmlOptions = {}): NvmlOpen {
  const path = options.libraryPath ?? NVML_LIBRARY;
  let lib: NvmlLibrary;
  if (options.library) lib = options.library;
  else {
    try {
      lib = bindNvmlLibrary(path);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (/cannot open shared object|No such file|not found/i.test(msg))
        return { ok: false, reason: `no NVIDIA driver (${path} not found)` };
      return { ok: false, reason: `cannot load ${path}: ${msg}` };
    }
  }

  const init = lib.nvmlInit_v2();
  if (init !== NVML_SUCCESS) return { ok: false, reason: `nvmlInit_v2 failed: ${errorText(lib, init)}` };
  let open = true;
  const close = () => {
    if (!open) return;
    open = false;
    lib.nvmlShutdown();
  };

  try {
    const count: [number] = [0];
    check(lib, 'nvmlDeviceGetCount_v2', lib.nvmlDeviceGetCount_v2(count));
    if (count[0] === 0) {
      close();
      return { ok: false, reason: 'NVML is loaded but reports no GPUs' };
    }
    const wanted = options.indices ?? Array.from({ length: count[0] }, (_, i) => i);
    const devices: NvmlDevice[] = [];
    for (const index of wanted) {
      if (!Number.isInteger(index) || index < 0 || index >= count[0])
        throw new Error(`GPU index ${index} out of range (NVML sees ${count[0]})`);
      const handle: [unknown] = [null];
      check(lib, `nvmlDeviceGetHandleByIndex_v2(${index})`, lib.nvmlDeviceGetHandleByIndex_v2(index, handle));
      const buf = Buffer.alloc(NAME_BUFFER_SIZE);
      check(lib, 'nvmlDeviceGetName', lib.nvmlDeviceGetName(handle[0], buf, buf.length));
      const end = buf.indexOf(0);
      const name = buf.toString('utf8', 0, end === -1 ? buf.length : end).trim();
      devices.push({ index, name: name || `GPU ${index}`, handle: handle[0] });
    }
    const session: NvmlSession = {
      devices,
      energyMj(d) {
        const out: [number | bigint] = [0];
        check(lib, 'nvmlDeviceGetTotalEnergyConsumption', lib.nvmlDeviceGetTotalEnergyConsumption(d.handle, out));
        // koffi gives a BigInt only above 2^53 mJ (9 TJ): never in practice, but be exact.
        return typeof out[0] === 'bigint' ? Number(out[0]) : out[0];
      },
      powerMw(d) {
        const out: [number] = [0];
        check(lib, 'nvmlDeviceGetPowerUsage', lib.nvmlDeviceGetPowerUsage(d.handle, out));
        return out[0];
      },
      close,
    };
    return { ok: true, nvml: session };
  } catch (e) {
    close();
    return { ok: false, reason: e instanceof Error ? e.message : String(e) };
  }
}

function check(lib: NvmlLibrary, call: string, rc: number): void {
  if (rc !== NVML_SUCCESS) throw new NvmlError(call, rc, errorText(lib, rc));
}

export interface NvmlDeviceCapabilities {
  index: number;
  name: string;
  /** nvmlDeviceGetTotalEnergyConsumption works (Volta and newer) */
  energyCounter: boolean;
  /** nvmlDeviceGetPowerUsage works */
  power: boolean;
  /** why a capability is missing */
  notes: string[];
}

export type NvmlAvailability = { ok: true; devices: NvmlDeviceCapabilities[] } | { ok: false; reason: string };

/** Probes every device once: which of the energy counter and the power reading work. */
export function probeNvml(session: NvmlSession): NvmlDeviceCapabilities[] {
  return session.devices.map((d) => {
    const notes: string[] = [];
    let energyCounter = false;
    let power = false;
    try {
      session.energyMj(d);
      energyCounter = true;
    } catch (e) {
      notes.push(e instanceof Error ? e.message : String(e));
    }
    try {
      session.powerMw(d);
      power = true;
    } catch (e) {
      notes.push(e instanceof Error ? e.message : String(e));
    }
    return { index: d.index, name: d.name, energyCounter, power, notes };
  });
}

/** For `middlepath doctor`: opens NVML, probes each device, shuts it down. */
export function nvmlAvailability(options: NvmlOptions = {}): NvmlAvailability {
  const opened = openNvml(options);
  if (!opened.ok) return opened;
  try {
    return { ok: true, devices: probeNvml(opened.nvml) };
  } finally {
    opened.nvml.close();
  }
}

/** 'NVIDIA H200 ×1', or 'NVIDIA A100 ×2+NVIDIA T4 ×1' for a mixed machine */
export function nvmlDevices(devices: readonly { name: string }[]): string {
  const counts = new Map<string, number>();
  for (const d of devices) counts.set(d.name, (counts.get(d.name) ?? 0) + 1);
  return [...counts].map(([name, n]) => `${name} ×${n}`).join('+');
}
