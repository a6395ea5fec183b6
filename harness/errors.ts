/** A mistake in how the harness was called (unknown name, bad flag): the CLI exits 2 and prints the message. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** An architecture module that cannot be used: the message names the module and what to fix. */
export class ArchitectureError extends Error {
  override name = 'ArchitectureError';
}
