/**
 * Loading an architecture without running it here: the module is bundled in this process
 * and imported only in a confined child, which says what its default export declares.
 * Planning a suite needs the name (run ids, tuning) and the source hash (run keys); with
 * confinement on, a submitted module's code never runs in the harness's own process.
 */
import { ArchitectureError } from '../errors.ts';
import { RunFailure } from '../forward.ts';
import { checkDefaultExport, type LoadedArchitecture, resolveModule } from '../load-architecture.ts';
import { sha256 } from '../results/files.ts';
import { bundleForChild } from './bundle.ts';
import { ConfinedChild, moduleUrl } from './host.ts';

/**
 * loadArchitecture's answer, from a confined child. The result's build() refuses: the model is built in a run's own child.
 * `validate` gives its own limits and holds the child (`onChild`) to stop it at its wall-clock limit.
 */
export async function loadConfined(
  nameOrPath: string,
  o: { requestSeconds?: number; heapMB?: number; rssLimitMB?: number; onChild?: (child: ConfinedChild) => void } = {},
): Promise<LoadedArchitecture> {
  const { isBaseline, path, source } = resolveModule(nameOrPath);
  const bundle = await bundleForChild(path);
  const child = ConfinedChild.start({
    bundle,
    backend: 'wasm',
    allowAddons: false,
    heapMB: o.heapMB ?? 512,
    rssLimitMB: o.rssLimitMB ?? 1536,
    requestSeconds: o.requestSeconds ?? 60,
  });
  o.onChild?.(child);
  let reply: Awaited<ReturnType<typeof child.request<'described'>>>;
  try {
    reply = await child.request({ type: 'describe', moduleUrl: moduleUrl(bundle) }, 'described');
  } catch (e) {
    if (e instanceof RunFailure)
      throw new ArchitectureError(`${nameOrPath} failed to load: ${e.message} — fix the module so that it imports cleanly`);
    throw e;
  } finally {
    child.close();
  }
  const d = reply.definition;
  const value = d
    ? {
        kind: 'middlepath.architecture',
        name: d.name,
        family: d.family,
        description: d.description,
        ...(d.reference !== null ? { reference: d.reference } : {}),
        ...(d.control !== null ? { control: d.control } : {}),
        ...(d.knobs.length > 0 ? { knobs: d.knobs } : {}),
        build: () => {
          throw new Error(`${nameOrPath} runs confined: its model is built in the run's own child process`);
        },
      }
    : reply.problem === 'no-default'
      ? undefined
      : {};
  const architecture = checkDefaultExport(nameOrPath, isBaseline, value);
  return { architecture, origin: isBaseline ? 'baseline' : nameOrPath, path, sourceHash: sha256(source) };
}
