/**
 * /submissions shows the maintainer's re-run figures for a verified submission, and the
 * submitter's own only labelled as claimed: a claim edited within the ±5% single-seed band
 * still verifies, so showing it under a 'verified' badge would publish a figure nobody measured.
 * The row is rendered to HTML as the page renders it.
 */
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, test } from 'vitest';
import type { SubmissionSummary } from '../harness/submit/db.ts';
import { acceptanceInterval } from '../harness/submit/verify.ts';
import { SubmissionRow } from './app/submissions/view.tsx';
import { submissionFigures } from './lib/submissions.ts';

const rerun = 0.9012;
// the submitter's record edited up by 4%: inside the band, so `verify` accepts it
const edited = rerun * 1.04;

function summary(status: SubmissionSummary['status']): SubmissionSummary {
  // the interval verify accepts a re-run in, for this one-seed claim
  const accept = acceptanceInterval([edited]);
  return {
    id: 'edited-0123456789ab',
    name: 'edited',
    family: 'dense',
    tier: 'smoke',
    hardwareClass: 'cpu:test',
    bundleHash: '0'.repeat(64),
    status,
    reason: status === 'verified' ? 'every re-run lies within the claim' : null,
    claim: [
      {
        task: 'mnist',
        metric: { name: 'accuracy', unit: '', higherIsBetter: true },
        runs: 1,
        seeds: [0],
        values: [edited],
        mean: edited,
        lo: edited,
        hi: edited,
      },
    ],
    uploadedBy: 'alice',
    verification:
      status === 'pending'
        ? null
        : {
            verifiedAt: '2026-12-07T00:00:00.000Z',
            status: 'verified',
            variant: false,
            variantTag: null,
            backend: 'wasm',
            hardwareClass: 'cpu:test',
            seconds: 12,
            tasks: [
              {
                task: 'mnist',
                claim: { mean: edited, n: 1 },
                accept,
                reruns: [
                  { seed: 0, status: 'completed', quality: rerun, within: accept !== null && rerun >= accept.lo && rerun <= accept.hi },
                ],
              },
            ],
          },
    createdAt: '2026-12-07T00:00:00.000Z',
    updatedAt: '2026-12-07T00:00:00.000Z',
  };
}

const html = (s: SubmissionSummary) =>
  renderToStaticMarkup(createElement('table', null, createElement('tbody', null, createElement(SubmissionRow, { s }))));
const figure = (markup: string, which: 'measured' | 'claimed') =>
  new RegExp(`data-figure="${which}"[^>]*>(.*?)</(span|div)>`).exec(markup)?.[1] ?? '';

describe('/submissions', () => {
  test("a verified submission whose claim was edited within ±5% shows the re-run's figure, the claim only as claimed", () => {
    const s = summary('verified');
    expect(s.verification?.tasks[0]?.reruns[0]?.within).toBe(true); // verify accepts the edited claim
    const [f] = submissionFigures(s);
    expect(f?.measured?.mean).toBe(rerun);
    expect(f?.claimed.mean).toBe(edited);
    const markup = html(s);
    expect(markup).toContain('data-status="verified"');
    // the figure first in the cell, under the badge, is the re-run's
    const cell = markup.slice(markup.indexOf('data-task="mnist"'));
    expect(cell.indexOf('data-figure="measured"')).toBeLessThan(cell.indexOf('data-figure="claimed"'));
    expect(figure(markup, 'measured')).toContain('0.901');
    expect(figure(markup, 'measured')).not.toContain('0.937');
    expect(markup).toMatch(/data-figure="claimed"[^>]*>claimed: <span class="iv">0\.937/);
  });

  test('a pending submission shows its claim labelled as claimed and not yet re-run', () => {
    const markup = html(summary('pending'));
    expect(markup).not.toContain('data-figure="measured"');
    expect(markup).toMatch(/data-figure="claimed"[^>]*>claimed <span class="iv">0\.937.*not yet re-run/);
  });
});
