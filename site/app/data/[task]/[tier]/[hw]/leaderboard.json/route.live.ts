// Live build: read per request (next.config picks *.live.ts unless exporting).
import { leaderboardDownload } from '../../../../../../lib/routes.ts';

export const dynamic = 'force-dynamic';

export async function GET(_req: Request, ctx: { params: Promise<{ task: string; tier: string; hw: string }> }): Promise<Response> {
  return leaderboardDownload(await ctx.params, 'json');
}
