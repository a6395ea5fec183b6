/** `middlepath doctor`: what this machine can run and measure, and why not where it can't. */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { describeBlas, loadBlas } from '../kernels/index.ts';
import { probeBackends, selectBackend } from './backend.ts';
import { sandboxLimits, sandboxStatus } from './confined/sandbox.ts';
import { describeEnergy } from './measure/energy.ts';
import { collectFingerprint, hardwareClass } from './measure/fingerprint.ts';
import { HARNESS_VERSION } from './version.ts';

export async function doctor(): Promise<void> {
  console.log(`middlepath ${HARNESS_VERSION} · node ${process.version} · tfjs ${tf.version.tfjs}`);
  console.log('\nbackends (in auto order):');
  for (const b of await probeBackends()) console.log(`  ${b.ok ? '✓' : '✗'} ${b.name.padEnd(15)} ${b.detail}`);
  console.log(`\nblas: ${await describeBlasHere()}`);
  const active = await selectBackend('auto');
  console.log(`\nauto picks: ${active.name} — ${active.reason}`);
  console.log(`custom kernels: ${active.kernels.length ? active.kernels.join(', ') : 'none'}`);
  const fp = await collectFingerprint({ backend: active.name, backendVersion: active.version, device: active.device });
  console.log(`\nhardware class: ${hardwareClass(fp)}`);
  console.log(`cpu: ${fp.cpu} (${fp.cpuCores} cores), memory ${(fp.memoryBytes / 2 ** 30).toFixed(1)} GiB, ${fp.os}`);
  console.log(`gpus: ${fp.gpus.length ? fp.gpus.map((g) => `${g.vendor} ${g.model}`).join(', ') : 'none found'}`);
  console.log(`git: ${fp.gitCommit ?? 'not a git checkout'}${fp.gitDirty ? ' (dirty)' : ''}`);
  const sandbox = sandboxStatus();
  console.log(
    sandbox.available
      ? `\nsandbox: ${sandbox.tool} ${sandbox.version} — submitted code runs as uid ${sandbox.outsideUid} outside, in its own pid and network namespaces; kernel limits: ${sandboxLimits().join(', ') || 'none (util-linux prlimit missing)'}${sandbox.outsideUid === 0 ? ' (the process limit does not bind a uid that is root outside)' : ''} (docs/trust.md)`
      : `\nsandbox: none — ${sandbox.reason}. submit and verify refuse to run untrusted code here; run --arch warns (docs/trust.md)`,
  );
  const energy = describeEnergy();
  console.log(`\nenergy: ${energy.message}`);
  for (const c of energy.checks) console.log(`  ${JSON.stringify(c)}`);
}

/** Which system BLAS the wasm+blas backend would use and with which kernel, or why none. */
async function describeBlasHere(): Promise<string> {
  try {
    const { info } = await loadBlas();
    const lines = [`${describeBlas(info)} (${info.path})`];
    if (info.library === 'openblas') {
      lines.push(
        info.coretype
          ? `OPENBLAS_CORETYPE=${info.coretype} (set by you; OpenBLAS uses that kernel)`
          : 'OPENBLAS_CORETYPE not set: OpenBLAS chose the kernel from the CPU it recognised',
      );
      if (!info.coretype && /^(haswell|zen)$/i.test(info.kernel ?? '') && cpuHasAvx512()) {
        lines.push(
          `this CPU has AVX-512 but OpenBLAS picked its ${info.kernel} (AVX2) kernel, as OpenBLAS 0.3.21 does on CPUs newer than it; OPENBLAS_CORETYPE=SkylakeX selects the AVX-512 one (~2× on Zen 5)`,
        );
      }
    }
    lines.push('threads: MIDDLEPATH_BLAS_THREADS, else all cores; --backend wasm runs without it');
    return lines.join('\n  ');
  } catch (e) {
    return `none — ${(e as Error).message}; matmuls run on the wasm kernels`;
  }
}

function cpuHasAvx512(): boolean {
  try {
    return /\bavx512f\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}
