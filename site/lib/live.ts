import { connection } from 'next/server';
import { isExport } from './mode.ts';

/** Opt a page into request-time rendering when live; a no-op in a static export. */
export async function live(): Promise<void> {
  if (!isExport) await connection();
}
