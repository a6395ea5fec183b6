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
