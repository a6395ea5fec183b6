// Static export: one file per slice (next.config picks *.export.ts when exporting).
import { dataParams, leaderboardDownload } from '../../../../../../lib/routes.ts';

export const dynamic = 'force-static';
export const generateStaticParams = dataParams;

export async function GET(_req: Request, ctx: { params: Promise<{ task: string; tier: string; hw: string }> }): Promise<Response> {
  return leaderboardDownload(await ctx.params, 'csv');
}
