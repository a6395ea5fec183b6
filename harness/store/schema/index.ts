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
export type SubmissionRow = typeof pg.submissions.$inferSelect;
export type UploadTokenRow = typeof pg.uploadTokens.$inferSelect;

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
// If these fail to compile, schema/pg.ts and schema/sqlite.ts have drifted apart.
const _selectSame: Same<typeof sqlite.runs.$inferSelect, RunRow> = true;
const _insertSame: Same<typeof sqlite.runs.$inferInsert, NewRunRow> = true;
const _recordSame: Same<typeof sqlite.records.$inferSelect, RecordRow> = true;
const _submissionSame: Same<typeof sqlite.submissions.$inferSelect, SubmissionRow> = true;
const _submissionInsertSame: Same<typeof sqlite.submissions.$inferInsert, typeof pg.submissions.$inferInsert> = true;
const _tokenSame: Same<typeof sqlite.uploadTokens.$inferSelect, UploadTokenRow> = true;
void _submissionSame;
void _submissionInsertSame;
void _tokenSame;
void _recordSame;
void _selectSame;
void _insertSame;
