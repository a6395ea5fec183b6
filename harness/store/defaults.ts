/** Where the SQLite store lives by default: a constant the CLI shows without loading the store. */
export const DEFAULT_SQLITE_PATH = '.middlepath/store.sqlite';
