/**
 * The newest migration this code knows, per dialect, as drizzle-kit's journal records it
 * (its `when`, ms). A read-only open compares the store's newest applied migration with
 * this. A constant rather than an import of the journal JSON, so a bundled reader (the
 * site) needs no JSON import support; schema.test.ts fails when a new migration is
 * generated and this is not updated.
 */
export const NEWEST_MIGRATION = {
  sqlite: { tag: '0004_provenance', when: 1796148407567 },
  pg: { tag: '0004_provenance', when: 1796148409555 },
} as const;
