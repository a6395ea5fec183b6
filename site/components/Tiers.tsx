/**
 * The tiers and budgets, per task.
 * PLACEHOLDER: harness/tiers.ts (TIERS per task: batch, budgetFlops, evalPoints, size caps)
 * does not exist yet; once it does, this component renders it instead of the notice below,
 * so the page is generated from the same constants the harness runs with.
 */
export function TierTable() {
  return (
    <p className="note" id="tiers-placeholder">
      Placeholder: the tier table is generated from <code>harness/tiers.ts</code>, which has not landed yet.
    </p>
  );
}
