/** The queue's names and where its tables live: what the site needs, without pg-boss. */
import { UsageError } from '../errors.ts';

export const QUEUE = 'middlepath-runs';
export const DEAD_LETTER = 'middlepath-runs-dead';

/** pg-boss's tables live in their own schema (several independent queues can share a database). */
export function queueSchema(): string {
  const schema = process.env.MIDDLEPATH_QUEUE_SCHEMA ?? 'middlepath_queue';
  if (!/^[a-z_][a-z0-9_]*$/.test(schema))
    throw new UsageError(`MIDDLEPATH_QUEUE_SCHEMA must be a plain lower-case SQL name, got '${schema}'`);
  return schema;
}
