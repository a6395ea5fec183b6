/** The environment a confined child gets (free of tfjs: validate imports it too). */

/**
 * The child's whole environment: nothing of the parent's but where binaries and home are,
 * and OpenBLAS's own settings (the machine's choice of BLAS kernel, never a secret).
 */
export function confinedEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const keep = (k: string) => k === 'PATH' || k === 'HOME' || k === 'LANG' || k.startsWith('OPENBLAS_');
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (keep(k) && v !== undefined) env[k] = v;
  return { ...env, ...extra } as NodeJS.ProcessEnv;
}
