/**
 * Where a run record came from, as the store and the site show it:
 * - `baseline`: a harness baseline (baselines/) in the published suite's manifest;
 * - `verified`: a submission's run that a maintainer's `verify` re-ran and stored itself,
 *   or that the published manifest lists;
 * - `submitted`: a submitter's own run of their module (`submit`), not yet verified;
 * - `local`: anything else — a record file the manifest does not list (your own runs, or a
 *   file someone dropped into results/), never shown as verified.
 *
 * published.ts reads and writes the manifest that decides baseline vs local. No imports
 * beyond zod: the store's schema files use these names.
 */
import { z } from 'zod';

export const PROVENANCE = ['baseline', 'verified', 'submitted', 'local'] as const;
export const provenance = z.enum(PROVENANCE);
export type Provenance = z.infer<typeof provenance>;

export const PROVENANCE_TEXT: Record<Provenance, string> = {
  baseline: 'a harness baseline in the published suite',
  verified: 'a submission re-run and stored by a maintainer’s verify, or listed in the published suite',
  submitted: 'a submitter’s own run of their module, not verified',
  local: 'a record file the published suite does not list (a local run): not verified',
};
