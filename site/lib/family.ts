import type { Family } from '../../harness/store/types.ts';

/** One colour per family, shared by chart dots, legend and table badges (Observable 10 palette). */
export const FAMILY_COLOR: Record<Family, string> = {
  dense: '#4269d0',
  moe: '#ff725c',
  hybrid: '#3ca951',
  other: '#9498a0',
};

export const FAMILY_LABEL: Record<Family, string> = {
  dense: 'dense',
  moe: 'mixture of experts',
  hybrid: 'hybrid',
  other: 'other',
};

export const FAMILIES: readonly Family[] = ['dense', 'moe', 'hybrid', 'other'];

export const FAMILY_SHORT: Record<Family, string> = { dense: 'dense', moe: 'MoE', hybrid: 'hybrid', other: 'other' };

/**
 * One colour per architecture, the same on every chart and page (Observable 10 palette for the
 * baselines, fixed here; dense's family in blues). Any other name gets a colour from a second
 * palette by a hash of its name: stable across pages, whatever else a chart shows.
 */
export const ARCH_COLOR: Readonly<Record<string, string>> = {
  dense: '#4269d0',
  'dense-block': '#97bbf5',
  'dense-total': '#6cc5b0',
  'switch-top1': '#ff725c',
  topk: '#efb118',
  'expert-choice': '#9c6b4e',
  hash: '#3ca951',
  'shared-routed': '#a463f2',
  'gradient-routed': '#ff8ab7',
};
const OTHER_COLORS = ['#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac', '#4e79a7', '#f28e2c'];

export function archColor(name: string): string {
  const fixed = ARCH_COLOR[name];
  if (fixed) return fixed;
  let h = 0;
  for (const ch of name) h = (h * 31 + (ch.codePointAt(0) ?? 0)) >>> 0;
  return OTHER_COLORS[h % OTHER_COLORS.length] as string;
}
