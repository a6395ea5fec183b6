/**
 * What /submissions shows for each task of a submission: the maintainer's re-run figures
 * (measured by `verify`) where there are any, and the bundle's claim beside them, labelled as
 * a claim. A claim edited within the acceptance band (±5% for one seed) still verifies, so
 * the page must never show the claim as if it were the verified figure.
 */
import type { ClaimEntry } from '../../harness/submit/bundle.ts';
import type { SubmissionSummary } from '../../harness/submit/db.ts';

export interface SubmissionFigure {
  task: string;
  metric: ClaimEntry['metric'];
  /** the re-runs' qualities (completed ones), their mean, and whether they ran on a held-out variant; null before any re-run */
  measured: { mean: number | null; values: number[]; variant: boolean } | null;
  /** the submitter's figures, from the bundle: a claim */
  claimed: ClaimEntry;
}

export function submissionFigures(s: Pick<SubmissionSummary, 'claim' | 'verification'>): SubmissionFigure[] {
  return s.claim.map((claimed) => {
    const reruns = s.verification?.tasks.find((t) => t.task === claimed.task)?.reruns;
    const values = (reruns ?? []).flatMap((r) => (r.quality === null ? [] : [r.quality]));
    return {
      task: claimed.task,
      metric: claimed.metric,
      measured: reruns
        ? {
            mean: values.length ? values.reduce((a, b) => a + b, 0) / values.length : null,
            values,
            variant: s.verification?.variant ?? false,
          }
        : null,
      claimed,
    };
  });
}
