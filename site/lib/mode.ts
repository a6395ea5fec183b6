/**
 * Live (next start, reads the store per request) or export (static files from the store at
 * build time). next.config inlines MIDDLEPATH_EXPORT at build, so both server and client
 * code see the mode the site was built in.
 */
export const isExport: boolean = process.env.MIDDLEPATH_EXPORT === '1';
