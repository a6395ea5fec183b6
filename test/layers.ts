/**
 * The project's layers, and a check that its imports run one way: built from the source with
 * the TypeScript compiler's own module resolution (the project's tsconfig, so the `middlepath`
 * path mapping and `.ts` extensions resolve as tsc resolves them), over harness/, kernels/,
 * baselines/ and site/. A module is a folder directly under harness/ or site/ (or a top-level
 * file there), or the whole of kernels/ or baselines/.
 *
 * It reports (a) every circle between modules and (b) every import from a lower layer to a
 * higher one, each as the offending file:line.
 *
 *   node bin/run-ts.js test/layers.ts      prints the graph's violations; exit 1 if any
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * Lowest first; a module may import its own layer (without a circle) and the layers below it.
 * Data flow tasks → loop → records → store → statistics → site and CLI. The record *schema*
 * (harness/results) is the vocabulary the loop writes in, so it sits under the loop; what is
 * derived from records (cost-to-target, multipliers, verdicts) is statistics, above the store.
 */
export const LAYERS: readonly { name: string; modules: readonly string[] }[] = [
  {
    name: 'foundation: errors, version, the public Architecture API',
    modules: [
      'harness/errors.ts',
      'harness/version.ts',
      'harness/backend-names.ts',
      'harness/architecture.ts',
      'harness/api.ts',
      'harness/math',
    ],
  },
  { name: 'tasks (data, metrics, tiers, caps, limits, knobs)', modules: ['harness/tasks', 'harness/tiers.ts', 'harness/knobs.ts'] },
  { name: 'records (the run record schema and files, the protocol file they are made under)', modules: ['harness/results'] },
  { name: 'kernels', modules: ['kernels'] },
  {
    name: 'loop (training, meters, legibility, the confined child, the suite)',
    modules: [
      'harness/measure',
      'harness/metrics',
      'harness/nn',
      'harness/backend.ts',
      'harness/build-context.ts',
      'harness/forward.ts',
      'harness/evaluate.ts',
      'harness/step.ts',
      'harness/runner.ts',
      'harness/load-architecture.ts',
      'harness/run-key.ts',
      'harness/train.ts',
      'harness/causality.ts',
      'harness/confined',
      'harness/jobs',
      'harness/suite.ts',
      'harness/run-child.ts',
    ],
  },
  { name: 'store', modules: ['harness/store'] },
  { name: 'statistics (derived figures, findings)', modules: ['harness/stats', 'harness/findings'] },
  {
    name: 'services and CLI pieces (tuning, queue, submission, reports)',
    modules: [
      'harness/tune',
      'harness/queue',
      'harness/submit',
      'harness/report.ts',
      'harness/cli-options.ts',
      'harness/doctor.ts',
      'harness/peer',
      'harness/protocol',
      'harness/sweeps',
      'harness/laws',
    ],
  },
  { name: 'site: lib', modules: ['site/lib'] },
  { name: 'site: components', modules: ['site/components'] },
  { name: 'site: routes', modules: ['site/routes'] },
  {
    name: 'site: app and server',
    modules: ['site/app', 'site/export-headers.ts', 'site/proxy.live.ts', 'site/serve.ts', 'site/next.config.ts'],
  },
  { name: 'CLI', modules: ['harness/cli.ts'] },
];

/** Baselines are written as a submitter writes: they may import the public API and nothing else of the project. */
export const BASELINE_MAY_IMPORT: readonly string[] = ['harness/api.ts'];

const ROOTS = ['harness', 'kernels', 'baselines', 'site'];
/** Not part of the layered program: tests, their support, benchmarks (entry points nothing imports), build output. */
const SKIP_DIRS = new Set(['node_modules', '.next', 'out', 'build', 'test', 'migrations']);
const isSkippedFile = (name: string) => /\.test\.tsx?$/.test(name) || name.endsWith('.d.ts') || /^bench[\w-]*\.ts$/.test(name);

export interface Edge {
  from: string;
  to: string;
  /** file:line of the import */
  at: string;
}

export interface Report {
  modules: string[];
  edges: Edge[];
  /** each circle as its modules in order, with one import of each step */
  cycles: Edge[][];
  /** imports from a lower layer to a higher one, or from a baseline past the public API */
  upward: (Edge & { why: string })[];
  /** modules no layer names */
  unplaced: string[];
  /** relative imports the compiler cannot resolve: a moved file left behind */
  unresolved: string[];
}

/** The module a project-relative path belongs to. */
export function moduleOf(rel: string): string {
  const s = rel.split('/');
  if (s[0] === 'kernels' || s[0] === 'baselines') return s[0];
  return s.length > 2 ? `${s[0]}/${s[1]}` : rel;
}

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (!SKIP_DIRS.has(name)) sources(p, out);
    } else if (/\.tsx?$/.test(name) && !isSkippedFile(name)) out.push(p);
  }
  return out;
}

/** Every import (static, dynamic, type-only, re-export) between modules, resolved as tsc resolves it. */
export function importGraph(root: string): { modules: string[]; edges: Edge[]; unresolved: string[] } {
  const config = ts.readConfigFile(join(root, 'tsconfig.json'), ts.sys.readFile);
  if (config.error) throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'));
  const options = ts.parseJsonConfigFileContent(config.config, ts.sys, root).options;
  const host = ts.createCompilerHost(options);
  const cache = ts.createModuleResolutionCache(root, (f) => f, options);
  const rel = (abs: string) => relative(root, abs).split(sep).join('/');
  const modules = new Set<string>();
  const edges: Edge[] = [];
  const unresolved: string[] = [];
  for (const top of ROOTS) {
    for (const file of sources(join(root, top))) {
      const from = rel(file);
      modules.add(moduleOf(from));
      const text = readFileSync(file, 'utf8');
      const info = ts.preProcessFile(text, true, true);
      for (const imp of info.importedFiles) {
        const resolved = ts.resolveModuleName(imp.fileName, file, options, host, cache).resolvedModule;
        const line = text.slice(0, imp.pos).split('\n').length;
        if (!resolved) {
          if (imp.fileName.startsWith('.') && !/\.(css|svg|png|wasm)$/.test(imp.fileName))
            unresolved.push(`${from}:${line} '${imp.fileName}'`);
          continue;
        }
        if (resolved.isExternalLibraryImport) continue;
        const to = rel(resolved.resolvedFileName);
        if (to.startsWith('..') || to.startsWith('node_modules/')) continue;
        const target = moduleOf(to);
        if (target === moduleOf(from)) continue;
        edges.push({ from: moduleOf(from), to: target, at: `${from}:${line}` });
      }
    }
  }
  return { modules: [...modules].sort(), edges, unresolved };
}

/** Strongly connected components (Tarjan) of more than one module: the circles. */
function circles(modules: readonly string[], edges: readonly Edge[]): Edge[][] {
  const out = new Map<string, Edge[]>();
  for (const e of edges) out.set(e.from, [...(out.get(e.from) ?? []), e]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const comps: string[][] = [];
  let n = 0;
  const visit = (v: string) => {
    index.set(v, n);
    low.set(v, n++);
    stack.push(v);
    on.add(v);
    for (const e of out.get(v) ?? []) {
      if (!index.has(e.to)) {
        visit(e.to);
        low.set(v, Math.min(low.get(v) as number, low.get(e.to) as number));
      } else if (on.has(e.to)) low.set(v, Math.min(low.get(v) as number, index.get(e.to) as number));
    }
    if (low.get(v) === index.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) comps.push(comp);
    }
  };
  for (const m of modules) if (!index.has(m)) visit(m);
  // each circle shown as the imports inside it, one per pair of modules
  return comps.map((comp) => {
    const inside = new Set(comp);
    const seen = new Set<string>();
    return edges.filter((e) => {
      const k = `${e.from}>${e.to}`;
      if (!inside.has(e.from) || !inside.has(e.to) || seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  });
}

export function checkLayers(root: string): Report {
  const { modules, edges, unresolved } = importGraph(root);
  const layerOf = new Map<string, number>();
  LAYERS.forEach((l, i) => {
    for (const m of l.modules) layerOf.set(m, i);
  });
  const upward: Report['upward'] = [];
  for (const e of edges) {
    if (e.from === 'baselines') {
      if (!BASELINE_MAY_IMPORT.includes(e.to)) upward.push({ ...e, why: `a baseline may import only ${BASELINE_MAY_IMPORT.join(', ')}` });
      continue;
    }
    if (e.to.startsWith('test/')) {
      upward.push({ ...e, why: 'production code imports test support: move what it needs out of test/, or the importer into test/' });
      continue;
    }
    if (e.to === 'baselines') continue; // tools that run the baselines as workloads (harness/peer) sit above them
    const a = layerOf.get(e.from);
    const b = layerOf.get(e.to);
    if (a !== undefined && b !== undefined && b > a)
      upward.push({ ...e, why: `${LAYERS[a]?.name} imports ${LAYERS[b]?.name}, a higher layer` });
  }
  const unplaced = modules.filter((m) => m !== 'baselines' && !layerOf.has(m));
  return { modules, edges, cycles: circles(modules, edges), upward, unplaced, unresolved };
}

export function describe(r: Report): string {
  const lines: string[] = [];
  for (const c of r.cycles) {
    lines.push(`circle: ${[...new Set(c.map((e) => e.from))].join(' ↔ ')}`);
    for (const e of c) lines.push(`  ${e.from} → ${e.to}  at ${e.at}`);
  }
  for (const e of r.upward) lines.push(`upward: ${e.from} → ${e.to}  at ${e.at} (${e.why})`);
  for (const u of r.unresolved) lines.push(`unresolved: ${u}`);
  for (const m of r.unplaced) lines.push(`unplaced: ${m} is in no layer: add it to LAYERS in test/layers.ts`);
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = process.argv[2] ?? fileURLToPath(new URL('..', import.meta.url));
  const r = checkLayers(root);
  const text = describe(r);
  console.log(`${r.modules.length} modules, ${r.edges.length} imports between them`);
  console.log(text || 'no circles, no upward imports');
  process.exit(text ? 1 : 0);
}
