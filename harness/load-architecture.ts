/**
 * Loading architectures: a baseline by name (a module in baselines/) or any module by
 * path. Every failure names the module and says what to fix.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Architecture, isArchitecture } from './architecture.ts';
import { ArchitectureError, thrownMessage, UsageError } from './errors.ts';
import { sha256 } from './results/files.ts';

export const BASELINES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'baselines');

export interface LoadedArchitecture {
  architecture: Architecture;
  /** 'baseline' or the module path as given */
  origin: string;
  path: string;
  sourceHash: string;
}

/** Baseline names, from the files in baselines/ (one architecture per file). */
export function baselineNames(): string[] {
  return readdirSync(BASELINES_DIR)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.startsWith('_'))
    .map((f) => basename(f, '.ts'))
    .sort((a, b) => (a === 'dense' ? -1 : b === 'dense' ? 1 : a.localeCompare(b)));
}

const looksLikePath = (s: string) => s.includes('/') || s.includes('\\') || /\.(ts|mts|js|mjs)$/.test(s);
/** A baseline is named (`dense`); anything given as a path is a module from outside baselines/. */
export const isBaselineName = (nameOrPath: string): boolean => !looksLikePath(nameOrPath);

/** Where a baseline name or a module path points, and the source there (read, not run). */
export function resolveModule(nameOrPath: string): { isBaseline: boolean; path: string; source: string } {
  const isBaseline = isBaselineName(nameOrPath);
  if (isBaseline && !baselineNames().includes(nameOrPath)) {
    throw new UsageError(
      `unknown architecture '${nameOrPath}'; the baselines are: ${baselineNames().join(', ')} — or give a path to a module, e.g. ./my-arch.ts`,
    );
  }
  const path = isBaseline ? resolve(BASELINES_DIR, `${nameOrPath}.ts`) : isAbsolute(nameOrPath) ? nameOrPath : resolve(nameOrPath);
  try {
    if (!statSync(path).isFile()) throw new Error('not a file');
    return { isBaseline, path, source: readFileSync(path, 'utf8') };
  } catch {
    throw new UsageError(`architecture module ${nameOrPath} not found (looked for ${path})`);
  }
}

/** The checks on a module's default export, wherever the module ran. */
export function checkDefaultExport(nameOrPath: string, isBaseline: boolean, value: unknown): Architecture {
  if (value === undefined) {
    throw new ArchitectureError(`${nameOrPath} has no default export — end it with \`export default defineArchitecture({ ... })\``);
  }
  if (!isArchitecture(value)) {
    throw new ArchitectureError(
      `${nameOrPath}: the default export is not an architecture — wrap it in defineArchitecture({ name, family, description, build }) from 'middlepath'`,
    );
  }
  if (isBaseline && value.name !== nameOrPath) {
    throw new ArchitectureError(`baselines/${nameOrPath}.ts declares name '${value.name}'; a baseline's name must equal its file name`);
  }
  if (!isBaseline && value.control !== undefined) {
    throw new ArchitectureError(
      `${nameOrPath} declares control: '${value.control}', which only the harness's own baselines may (it lifts the active-parameter cap) — remove it`,
    );
  }
  return value;
}

/** Load a module into this process (trusted code, or the in-process path; see harness/confined/describe.ts for the confined one). */
export async function loadArchitecture(nameOrPath: string): Promise<LoadedArchitecture> {
  const { isBaseline, path, source } = resolveModule(nameOrPath);
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(path).href)) as { default?: unknown };
  } catch (e) {
    throw new ArchitectureError(
      `${nameOrPath} failed to load: ${thrownMessage(e).split('\n')[0]} — fix the module so that it imports cleanly`,
    );
  }
  const architecture = checkDefaultExport(nameOrPath, isBaseline, mod.default);
  return { architecture, origin: isBaseline ? 'baseline' : nameOrPath, path, sourceHash: sha256(source) };
}
