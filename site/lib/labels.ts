/**
 * Label placement for the leaderboard scatter: architectures at one budget sit close
 * together, and Plot draws text where it is told. Each label goes right of its dot, moved
 * up or down in line steps until it clears the labels already placed. Pure.
 */
export interface Axis {
  type: 'log' | 'linear';
  domain: [number, number];
  /** pixel range, [start, end] in the direction values grow */
  range: [number, number];
}

export function toPx(a: Axis, v: number): number {
  const [d0, d1] = a.domain;
  const t = a.type === 'log' ? (Math.log(v) - Math.log(d0)) / (Math.log(d1) - Math.log(d0)) : (v - d0) / (d1 - d0);
  return a.range[0] + t * (a.range[1] - a.range[0]);
}

export function fromPx(a: Axis, px: number): number {
  const [d0, d1] = a.domain;
  const t = (px - a.range[0]) / (a.range[1] - a.range[0]);
  return a.type === 'log' ? Math.exp(Math.log(d0) + t * (Math.log(d1) - Math.log(d0))) : d0 + t * (d1 - d0);
}

interface Box {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

const overlaps = (a: Box, b: Box): boolean => a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;

/**
 * The data-space y at which to centre each label (keyed like the input), given the dot
 * positions. charWidth and lineHeight approximate the label font.
 */
export function placeLabels(
  points: readonly { key: string; x: number; y: number; text: string }[],
  x: Axis,
  y: Axis,
  opts: { dx?: number; dy?: number; charWidth?: number; lineHeight?: number; dotRadius?: number } = {},
): Map<string, number> {
  const dx = opts.dx ?? 9;
  const dy = opts.dy ?? -8;
  const cw = opts.charWidth ?? 7;
  const lh = opts.lineHeight ?? 15;
  const r = opts.dotRadius ?? 6;
  const px = points.map((p) => ({ ...p, px: toPx(x, p.x), py: toPx(y, p.y) }));
  // dots are obstacles too, so a label does not cover a neighbour
  const placed: Box[] = px.map((p) => ({ x0: p.px - r, x1: p.px + r, y0: p.py - r, y1: p.py + r }));
  const out = new Map<string, number>();
  for (const p of [...px].sort((a, b) => a.py - b.py || a.px - b.px)) {
    const width = p.text.length * cw;
    let chosen = p.py + dy;
    for (const step of [0, 1, -1, 2, -2, 3, -3, 4, -4]) {
      const cy = p.py + dy + step * lh;
      const box = { x0: p.px + dx, x1: p.px + dx + width, y0: cy - lh / 2 + 1, y1: cy + lh / 2 - 1 };
      if (!placed.some((b) => overlaps(b, box))) {
        chosen = cy;
        break;
      }
    }
    placed.push({ x0: p.px + dx, x1: p.px + dx + width, y0: chosen - lh / 2 + 1, y1: chosen + lh / 2 - 1 });
    out.set(p.key, fromPx(y, chosen));
  }
  return out;
}

/**
 * Line-end labels in one column: each label as near its line's end as it can be, no two closer
 * than `gap` pixels, all within [min, max] when they fit (callers size the chart so they do).
 * Input and output are pixel positions, in the input's order. Overlap cannot happen: the
 * positions are sorted and spaced, not searched for.
 */
export function dodge(desired: readonly number[], gap: number, min: number, max: number): number[] {
  const order = desired.map((y, i) => ({ y, i })).sort((a, b) => a.y - b.y || a.i - b.i);
  const pos = order.map((o) => Math.min(Math.max(o.y, min), max));
  for (let k = 1; k < pos.length; k++) pos[k] = Math.max(pos[k] as number, (pos[k - 1] as number) + gap);
  // pushed past the bottom: pull back up, keeping the spacing
  if (pos.length && (pos[pos.length - 1] as number) > max) {
    pos[pos.length - 1] = max;
    for (let k = pos.length - 2; k >= 0; k--) pos[k] = Math.min(pos[k] as number, (pos[k + 1] as number) - gap);
  }
  const out = new Array<number>(desired.length);
  for (const [k, o] of order.entries()) out[o.i] = pos[k] as number;
  return out;
}
