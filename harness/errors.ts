/** A mistake in how the harness was called (unknown name, bad flag): the CLI exits 2 and prints the message. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** An architecture module that cannot be used: the message names the module and what to fix. */
export class ArchitectureError extends Error {
  override name = 'ArchitectureError';
}

/**
 * What a module threw, as text: an Error's message, else what the value was — `throw null`
 * or `throw 42` from a submission must still produce a message that says what happened.
 */
export function thrownMessage(e: unknown): string {
  if (e instanceof Error) {
    // Node's permission model (a confined architecture's process) says only "Access to this API has been restricted": name what was refused
    const { code, permission, resource } = e as Error & { code?: unknown; permission?: unknown; resource?: unknown };
    if (code === 'ERR_ACCESS_DENIED') {
      const what = [permission, resource].filter((x) => typeof x === 'string' && x).join(' ');
      return `${e.message} (ERR_ACCESS_DENIED${what ? `: ${what}` : ''}) — an architecture runs confined: it may read its own folder and the tfjs runtime, and may not read other files, write files, start processes or workers, or load native addons`;
    }
    return e.message;
  }
  if (e === null || e === undefined) return `it threw ${e} (not an Error: throw new Error('why') instead)`;
  let shown: string;
  try {
    shown = typeof e === 'string' ? JSON.stringify(e) : String(e);
  } catch {
    shown = Object.prototype.toString.call(e);
  }
  return `it threw ${typeof e} ${shown.slice(0, 200)} (not an Error: throw new Error('why') instead)`;
}
