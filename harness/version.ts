// A JSON import, not a require at run time: bundled processes (harness/confined/bundle.ts) carry it inlined.
import pkg from '../package.json' with { type: 'json' };

/** The harness version, from package.json: part of every run's key. */
export const HARNESS_VERSION: string = pkg.version;
