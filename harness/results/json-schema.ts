/**
 * The run record as JSON Schema, for readers outside TypeScript: results/schema.json is
 * generated from the zod schema (`npm run schema`) and a test keeps it in step.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { runRecord } from './record.ts';

export const SCHEMA_PATH = fileURLToPath(new URL('../../results/schema.json', import.meta.url));

export function recordJsonSchema(): string {
  const schema = z.toJSONSchema(runRecord, { io: 'input', unrepresentable: 'any' });
  return `${JSON.stringify({ ...schema, title: 'middlepath run record' }, null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(SCHEMA_PATH, recordJsonSchema());
  console.log(`wrote ${SCHEMA_PATH}`);
}
