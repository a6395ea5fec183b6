/**
 * POST /api/submissions: upload a submission bundle (see harness/submit/server.ts for every
 * check and status). Live builds only: a static export has no server to receive uploads,
 * so there is no route.export.ts.
 *
 * The store: the pages open it read-only (site/lib/store.ts); uploads need to write, so the
 * handler keeps one writable connection per store location for the server process
 * (harness/submit/server.ts), at the location the pages read (DATABASE_URL, else
 * MIDDLEPATH_SQLITE, else .middlepath/store.sqlite). Rate limit: MIDDLEPATH_UPLOAD_RATE,
 * "N/SECONDS" per token, default 20/3600.
 */
import { createSubmissionHandler, parseRate } from '../../../../harness/submit/server.ts';
import { storeLocation } from '../../../lib/store.ts';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

export const POST = createSubmissionHandler(() => {
  const { url, sqlitePath } = storeLocation();
  return { store: url ? { url } : { sqlitePath }, rate: parseRate(process.env.MIDDLEPATH_UPLOAD_RATE) };
});
