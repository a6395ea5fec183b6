/** The environment a confined child gets (free of tfjs: validate imports it too). */

/** The child's whole environment: nothing of the parent's but where binaries and home are. */
export function confinedEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const keep = ['PATH', 'HOME', 'LANG', 'OPENBLAS_CORETYPE'];
  const env: Record<string, string> = {};
  for (const k of keep) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  return { ...env, ...extra } as NodeJS.ProcessEnv;
}
