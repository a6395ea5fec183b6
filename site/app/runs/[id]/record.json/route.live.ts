// Live build: read per request (next.config picks *.live.ts unless exporting).
import { recordJson } from '../../../../lib/routes.ts';

export const dynamic = 'force-dynamic';

export async function GET(_req: Request, ctx: { params: Promise<{ id: string }> }): Promise<Response> {
  return recordJson((await ctx.params).id);
}
