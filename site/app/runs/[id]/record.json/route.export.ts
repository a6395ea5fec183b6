// Static export: one file per run (next.config picks *.export.ts when exporting).
import { recordJson, recordParams } from '../../../../lib/routes.ts';

export const dynamic = 'force-static';
export const generateStaticParams = recordParams;

export async function GET(_req: Request, ctx: { params: Promise<{ id: string }> }): Promise<Response> {
  return recordJson((await ctx.params).id);
}
