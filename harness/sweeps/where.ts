/**
 * Where sweep records live: results/sweeps/runs/, beside the plans and apart from the
 * leaderboard's results/runs/. A sweep cell (an architecture with knobs, on seeds of its own)
 * is not a leaderboard entry, so its records are never indexed in the store that the board,
 * the findings and the published manifest read; the laws read them from here.
 */
export const SWEEP_RECORDS = 'results/sweeps';
