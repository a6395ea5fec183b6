/**
 * Bundling for the confined child, in the trusted parent: tsx's loader cannot run under
 * Node's permission model (its hooks live on a worker thread), so the child starts on
 * plain JavaScript. Two bundles, each written once per content hash under
 * node_modules/.cache/middlepath/confined/ (inside the package, so `@tensorflow/tfjs`, the
 * one package left external, resolves from there to the installed runtime):
 *
 * - the child's own harness code (child.ts, and what it imports);
 * - the architecture module, with `middlepath` (the public API) bundled in. A module may
 *   import `@tensorflow/tfjs`, `middlepath`, Node's built-ins (which the permission model
 *   then limits) and files in its own folder — nothing else. Bundling a package would copy
 *   its contents into the bundle, data packages included (the held-out digits), so any
 *   other import is refused here, with the list of what is allowed.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { ArchitectureError } from '../errors.ts';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const HARNESS = join(ROOT, 'harness') + sep;
const NODE_MODULES = join(ROOT, 'node_modules') + sep;
const API = join(ROOT, 'harness', 'api.ts');
/** The harness's entry points that run beside a module under the permission model. */
const ENTRIES = {
  child: join(ROOT, 'harness', 'confined', 'child.ts'),
} as const;
export const CACHE_DIR = join(ROOT, 'node_modules', '.cache', 'middlepath', 'confined');
const BUILTINS = new Set(builtinModules);

export interface ConfinedBundle {
  /** the child's entry point (plain ESM) */
  childFile: string;
  /** the bundled architecture module */
  moduleFile: string;
}

/** Write `text` to <CACHE_DIR>/<prefix>-<hash>/<name> unless it is there; return the path. */
function cached(prefix: string, name: string, text: string): string {
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 24);
  const dir = join(CACHE_DIR, `${prefix}-${hash}`);
  const file = join(dir, name);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, file); // atomic: a child started by a concurrent run never reads half a file
  }
  return file;
}

/** The imports a confined module may make; everything else is refused at bundling. */
function confineImports(moduleDir: string): Plugin {
  const inside = moduleDir.endsWith(sep) ? moduleDir : moduleDir + sep;
  return {
    name: 'middlepath-confine-imports',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === 'entry-point') return undefined;
        const p = args.path;
        if (p === '@tensorflow/tfjs') return { path: p, external: true };
        if (p === 'middlepath') return { path: API };
        if (p.startsWith('node:') || BUILTINS.has(p)) return { path: p, external: true };
        // The harness's public API (what `middlepath` bundles) and the packages it uses resolve as usual:
        // a module reaches them only through `middlepath`, never by naming them.
        if (args.importer.startsWith(HARNESS) || args.importer.startsWith(NODE_MODULES)) return undefined;
        if (p.startsWith('.') || p.startsWith('/')) {
          const target = resolve(args.resolveDir, p);
          if (target.startsWith(inside) && !target.includes(`${sep}node_modules${sep}`)) return undefined;
        }
        return {
          errors: [
            {
              text: `'${p}' cannot be imported by an architecture module: it runs confined, with @tensorflow/tfjs, 'middlepath', Node's built-ins and files in its own folder only`,
            },
          ],
        };
      });
    },
  };
}

const esbuildFailure = (e: unknown) => {
  const errors = (e as { errors?: Array<{ text: string; location?: { file: string; line: number; column: number } | null }> }).errors;
  if (!errors?.length) return String((e as Error)?.message ?? e);
  return errors.map((x) => (x.location ? `${x.location.file}:${x.location.line}:${x.location.column}: ${x.text}` : x.text)).join('; ');
};

const entryFiles = new Map<keyof typeof ENTRIES, Promise<string>>();

/** A harness entry point (the confined child), bundled once per process. */
export function bundleHarnessEntry(entry: keyof typeof ENTRIES): Promise<string> {
  let file = entryFiles.get(entry);
  if (!file) {
    file = build({
      entryPoints: [ENTRIES[entry]],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      write: false,
      // tfjs stays the installed package (its .wasm files and node bindings are read from there); koffi is
      // loaded only where addons are allowed; the task data packages are read at run time (createRequire)
      external: ['@tensorflow/*', 'koffi', 'webgpu'],
      logLevel: 'silent',
    }).then((r) => cached(entry, `${entry}.mjs`, r.outputFiles[0]?.text ?? ''));
    entryFiles.set(entry, file);
  }
  return file;
}

/** Bundle the child and an architecture module (a path) for a confined run. */
export async function bundleForChild(modulePath: string): Promise<ConfinedBundle> {
  return { childFile: await bundleHarnessEntry('child'), moduleFile: await bundleModule(modulePath) };
}

/** Bundle an architecture module (a path) for a confined process; an ArchitectureError says what cannot be bundled, and where. */
export async function bundleModule(modulePath: string): Promise<string> {
  const path = resolve(modulePath);
  let text: string;
  try {
    const r = await build({
      entryPoints: [path],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      write: false,
      plugins: [confineImports(dirname(path))],
      logLevel: 'silent',
    });
    text = r.outputFiles[0]?.text ?? '';
  } catch (e) {
    throw new ArchitectureError(`${modulePath} cannot be bundled for its confined process: ${esbuildFailure(e)}`);
  }
  return cached('module', 'module.mjs', text);
}
