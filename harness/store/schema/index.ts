/**
 * Both dialects' tables, and a compile-time check that they describe the same rows, so
 * the store can run one set of queries against either.
 */
import * as pg from './pg.ts';
import * as sqlite from './sqlite.ts';

export { pg, sqlite };

export type RunRow = typeof pg.runs.$inferSelect;
export type NewRunRow = typeof pg.runs.$inferInsert;
export type RecordRow = typeof pg.records.$inferSelect;

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
// If these fail to compile, schema/pg.ts and schema/sqlite.ts have drifted apart.
const _selectSame: Same<typeof sqlite.runs.$inferSelect, RunRow> = true;
const _insertSame: Same<typeof sqlite.runs.$inferInsert, NewRunRow> = true;
const _recordSame: Same<typeof sqlite.records.$inferSelect, RecordRow> = true;
void _recordSame;
void _selectSame;
void _insertSame;
