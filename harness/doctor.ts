/** `middlepath doctor`: what this machine can run and measure, and why not where it can't. */
import * as tf from '@tensorflow/tfjs';
import { probeBackends, selectBackend } from './backend.ts';
import { describeEnergy } from './measure/energy.ts';
import { collectFingerprint, hardwareClass } from './measure/fingerprint.ts';
import { HARNESS_VERSION } from './version.ts';

export async function doctor(): Promise<void> {
  console.log(`middlepath ${HARNESS_VERSION} · node ${process.version} · tfjs ${tf.version.tfjs}`);
  console.log('\nbackends (in auto order):');
  for (const b of await probeBackends()) console.log(`  ${b.ok ? '✓' : '✗'} ${b.name.padEnd(15)} ${b.detail}`);
  const active = await selectBackend('auto');
  console.log(`\nauto picks: ${active.name} — ${active.reason}`);
  console.log(`custom kernels: ${active.kernels.length ? active.kernels.join(', ') : 'none'}`);
  const fp = await collectFingerprint({ backend: active.name, backendVersion: active.version, device: active.device });
  console.log(`\nhardware class: ${hardwareClass(fp)}`);
  console.log(`cpu: ${fp.cpu} (${fp.cpuCores} cores), memory ${(fp.memoryBytes / 2 ** 30).toFixed(1)} GiB, ${fp.os}`);
  console.log(`gpus: ${fp.gpus.length ? fp.gpus.map((g) => `${g.vendor} ${g.model}`).join(', ') : 'none found'}`);
  console.log(`git: ${fp.gitCommit ?? 'not a git checkout'}${fp.gitDirty ? ' (dirty)' : ''}`);
  const energy = describeEnergy();
  console.log(`\nenergy: ${energy.message}`);
  for (const c of energy.checks) console.log(`  ${JSON.stringify(c)}`);
}
