/** The site's pure parts: server-side Plot, view state and links, formatting, frontier, labels. */
import * as Plot from '@observablehq/plot';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, test } from 'vitest';
import type { Facets } from '../harness/store/types.ts';
import { paretoSet } from './lib/board.ts';
import { headingId, siteHref } from './lib/docs.ts';
import { archColor } from './lib/family.ts';
import { interval, intervalParts, multiplier, seconds, si } from './lib/format.ts';
import { dodge, fromPx, placeLabels, toPx } from './lib/labels.ts';
import { segment } from './lib/params.ts';
import { plotToReact } from './lib/plot-ssr.tsx';
import { allBoardParams, hwFromSlug, hwSlug, resolveView, slugMap, viewHref, withChange } from './lib/view.ts';

const facets: Facets = {
  tasks: ['mnist', 'parity'],
  tiers: ['smoke', 'cpu'],
  hardwareClasses: ['cpu ×1 · wasm', 'NVIDIA H200 ×1 · tensorflow-gpu'],
  metrics: {
    mnist: { name: 'accuracy', unit: '%', higherIsBetter: true },
    parity: { name: 'accuracy', unit: '%', higherIsBetter: true },
  },
  slices: [
    { task: 'mnist', tier: 'smoke', hardwareClass: 'cpu ×1 · wasm', runs: 10 },
    { task: 'parity', tier: 'smoke', hardwareClass: 'cpu ×1 · wasm', runs: 10 },
    { task: 'mnist', tier: 'cpu', hardwareClass: 'cpu ×1 · wasm', runs: 3 },
    { task: 'mnist', tier: 'smoke', hardwareClass: 'NVIDIA H200 ×1 · tensorflow-gpu', runs: 4 },
  ],
  provenances: ['baseline', 'local'],
};

describe('plotToReact', () => {
  test('renders Plot marks as SVG with user text escaped, links kept and styles applied', () => {
    const data = [{ x: 1, y: 2, name: '<script>alert(1)</script>' }];
    const html = renderToStaticMarkup(
      plotToReact({
        className: 'mp-plot',
        style: 'font-size: 13px',
        marks: [
          Plot.dot(data, {
            x: 'x',
            y: 'y',
            title: 'name',
            href: (d: { name: string }) => `/archs/${encodeURIComponent(d.name)}`,
            className: 'arch-dot',
          }),
        ],
      }),
    );
    expect(html.startsWith('<svg')).toBe(true);
    expect(html).not.toContain('<script>');
    expect(html).toContain('<title>&lt;script&gt;alert(1)&lt;/script&gt;</title>');
    expect(html).toContain('href="/archs/%3Cscript%3Ealert(1)%3C%2Fscript%3E"');
    expect(html).toContain('font-size:13px');
    expect(html).toContain('class="arch-dot"');
    // a mark wrapped in its link appears once, not also where it was created
    expect(html.match(/<circle/g)).toHaveLength(1);
    expect(html).not.toMatch(/="[^"]*\d\.\d{3,}/); // coordinates in attributes rounded
  });
});

describe('view state', () => {
  test('defaults to the busiest slice and all tasks', () => {
    const v = resolveView(facets, {});
    expect(v?.view).toMatchObject({ task: 'all', tier: 'smoke', hw: 'cpu ×1 · wasm', cost: 'executedFlops', cap: 'multiplier' });
    expect(v?.notes).toEqual([]);
  });

  test('unknown values fall back and say so; all tasks has no single metric', () => {
    const v = resolveView(facets, { task: 'nope', tier: 'gpu', cap: 'quality', cost: 'bogus' });
    expect(v?.view.task).toBe('all');
    expect(v?.view.cap).toBe('multiplier');
    expect(v?.view.cost).toBe('executedFlops');
    // the task, and the cost axis: a bad query value is named like a bad task or tier
    expect(v?.notes).toEqual([
      'no runs in tier gpu',
      'no runs of task “nope” in this tier and hardware class',
      'unknown cost axis “bogus”',
    ]);
    expect(resolveView(facets, { cap: 'qq', prov: 'forged' })?.notes).toEqual([
      'unknown capability axis “qq”',
      'unknown provenance “forged”',
    ]);
    expect(resolveView(facets, { prov: 'verified' })?.notes).toEqual(['no verified runs in this store']);
    const pub = resolveView(facets, { prov: 'published' });
    expect([pub?.view.prov, pub?.notes]).toEqual(['published', []]);
    expect(resolveView({ ...facets, slices: [] }, {})).toBeNull();
  });

  test('changing tier keeps the view valid', () => {
    const v = resolveView(facets, { task: 'parity' })?.view;
    if (!v) throw new Error('no view');
    const next = withChange(facets, v, { tier: 'cpu' });
    expect(next).toMatchObject({ tier: 'cpu', task: 'all', hw: 'cpu ×1 · wasm', cap: 'multiplier' });
    expect(withChange(facets, next, { task: 'mnist' }).cap).toBe('quality');
  });

  test('links round-trip through the URL and slugs', () => {
    const v = resolveView(facets, { task: 'mnist', hw: 'NVIDIA H200 ×1 · tensorflow-gpu' })?.view;
    if (!v) throw new Error('no view');
    const q = new URL(viewHref(facets, v), 'http://x').searchParams;
    expect(resolveView(facets, Object.fromEntries(q))?.view).toEqual(v);
    const s = hwSlug(facets, v.hw);
    expect(s).toBe('nvidia-h200-1-tensorflow-gpu');
    expect(hwFromSlug(facets, s)).toBe(v.hw);
    expect(slugMap(['a b', 'a-b']).fromSlug.size).toBe(2);
    const params = allBoardParams(facets);
    expect(params.some((p) => p.task === 'all' && p.cap === 'quality')).toBe(false);
    expect(new Set(params.map((p) => JSON.stringify(p))).size).toBe(params.length);
  });

  test('route segments are decoded once', () => {
    expect(segment('%3Cb%3E')).toBe('<b>');
    expect(segment('100%')).toBe('100%');
    expect(segment('plain')).toBe('plain');
  });
});

describe('formatting', () => {
  test('means with symmetric and asymmetric intervals', () => {
    expect(interval({ mean: 0.9, lo: 0.88, hi: 0.92, n: 3 })).toBe('0.9 ± 0.02');
    expect(intervalParts({ mean: 2, lo: 1.5, hi: 3, n: 4 }, multiplier)).toEqual({ mean: '2×', ci: '1.5×–3×' });
    expect(interval({ mean: 5, lo: 5, hi: 5, n: 1 })).toBe('5');
    expect(si(1.234e12, 'FLOP')).toBe('1.23 TFLOP');
    expect(seconds(0.5)).toBe('500 ms');
    expect(seconds(7200)).toBe('2 h');
  });
});

describe('frontier and labels', () => {
  test('the Pareto set keeps points no cheaper point beats', () => {
    const pts = [
      { name: 'a', x: 1, y: 1 },
      { name: 'b', x: 2, y: 3 },
      { name: 'c', x: 3, y: 2 },
      { name: 'd', x: 4, y: 4 },
    ];
    expect([...paretoSet(pts, true)].sort()).toEqual(['a', 'b', 'd']);
    expect([...paretoSet(pts, false)].sort()).toEqual(['a']);
  });

  test('costs that tie at one budget compare on capability alone', () => {
    // the parity smoke case: dense and gradient-routed a rounding cheaper than switch-top1's better accuracy
    const pts = [
      { name: 'dense', x: 800_006_166_080, y: 0.6 },
      { name: 'gradient-routed', x: 800_026_628_684, y: 0.62 },
      { name: 'switch-top1', x: 800_100_000_000, y: 0.7 },
      { name: 'big', x: 2e12, y: 0.8 },
    ];
    expect([...paretoSet(pts, true)].sort()).toEqual(['big', 'switch-top1']);
  });

  test('labels of coinciding points are moved apart', () => {
    const x = { type: 'log' as const, domain: [1, 100] as [number, number], range: [0, 500] as [number, number] };
    const y = { type: 'linear' as const, domain: [0, 1] as [number, number], range: [400, 0] as [number, number] };
    expect(fromPx(x, toPx(x, 10))).toBeCloseTo(10);
    const placed = placeLabels(
      [
        { key: 'a', x: 10, y: 0.5, text: 'alpha' },
        { key: 'b', x: 10, y: 0.5, text: 'beta' },
      ],
      x,
      y,
    );
    const ya = toPx(y, placed.get('a') ?? 0);
    const yb = toPx(y, placed.get('b') ?? 0);
    expect(Math.abs(ya - yb)).toBeGreaterThanOrEqual(14);
  });
});

describe('line-end labels, colours and docs links', () => {
  test('dodged labels keep their order, never come closer than the gap, and stay in range when they fit', () => {
    // six architectures ending at 100%: the performance profile's pile-up
    const ys = dodge([20, 20, 20, 20, 20, 20, 150], 14, 20, 280);
    const sorted = [...ys].sort((a, b) => a - b);
    for (let i = 1; i < sorted.length; i++) expect((sorted[i] as number) - (sorted[i - 1] as number)).toBeGreaterThanOrEqual(14);
    expect(Math.min(...ys)).toBeGreaterThanOrEqual(20);
    expect(Math.max(...ys)).toBeLessThanOrEqual(280);
    expect(ys[6]).toBe(150); // a label with room stays by its line
    // pushed past the bottom, the column is pulled back up
    const low = dodge([270, 275, 280], 14, 0, 280);
    expect(Math.max(...low)).toBe(280);
    expect([...low].sort((a, b) => a - b)).toEqual([252, 266, 280]);
  });

  test('an architecture has one colour whatever else is shown', () => {
    expect(archColor('hash')).toBe(archColor('hash'));
    expect(
      new Set(
        ['dense', 'hash', 'switch-top1', 'topk', 'shared-routed', 'gradient-routed', 'expert-choice', 'dense-block', 'dense-total'].map(
          archColor,
        ),
      ).size,
    ).toBe(9);
    expect(archColor('my-arch')).toMatch(/^#[0-9a-f]{6}$/);
  });

  test('docs links: other pages and record files become site routes, source files lose their link', () => {
    expect(siteHref('trust.md#limits')).toBe('/docs/trust#limits');
    expect(siteHref('../results/runs/cpu.charlm.hash.s0.x.json')).toBe('/runs/cpu.charlm.hash.s0.x');
    expect(siteHref('../kernels/README.md#wasm')).toBeNull();
    expect(siteHref('https://example.org')).toBe('https://example.org');
    expect(headingId('Limits for submitters: the trust boundary')).toBe('limits-for-submitters-the-trust-boundary');
  });
});
