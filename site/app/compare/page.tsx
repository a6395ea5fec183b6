import type { Metadata } from 'next';
import Link from 'next/link';
import { ComparePairs, RunPairChart } from '../../components/Compare.tsx';
import { EmptyStore } from '../../components/EmptyStore.tsx';
import { live } from '../../lib/live.ts';
import { isExport } from '../../lib/mode.ts';
import type { SearchParams } from '../../lib/params.ts';
import { getStore } from '../../lib/store.ts';
import { compareHref } from '../../lib/view.ts';

export const metadata: Metadata = { title: 'compare' };

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

export default async function ComparePage({ searchParams }: { searchParams: SearchParams }) {
  await live();
  const st = await getStore();
  if (!st.ok) return <EmptyStore where={st.where} reason={st.reason} kind={st.kind} />;
  const archs = await st.store.architectures();
  if (archs.length === 0) return <EmptyStore where={st.where} />;
  const names = archs.map((x) => x.name);
  const q = isExport ? {} : await searchParams;
  const dense = archs.find((x) => x.family === 'dense')?.name ?? names[0] ?? '';
  const rawA = one(q.a) ?? '';
  const rawB = one(q.b) ?? '';
  // a run id stands for its run (its curve is overlaid with the other's) and its architecture
  const runOf = async (x: string) => (x && !names.includes(x) ? await st.store.run(x) : null);
  const [runA, runB] = await Promise.all([runOf(rawA), runOf(rawB)]);
  const a = runA?.architecture.name ?? rawA;
  const b = runB?.architecture.name ?? rawB;
  const chosen = names.includes(a) && names.includes(b);
  return (
    <>
      <h1>Compare two architectures</h1>
      {isExport ? (
        <>
          <p className="lede">Every pair of architectures, side by side on every task:</p>
          <ul className="pairs">
            {names.flatMap((x, i) =>
              names.slice(i + 1).map((y) => (
                <li key={`${x}|${y}`}>
                  <Link href={compareHref(x, y)} prefetch={false}>
                    {x} vs {y}
                  </Link>
                </li>
              )),
            )}
          </ul>
        </>
      ) : (
        <form className="compare-form" method="get" action="/compare">
          <label>
            first
            <select name="a" defaultValue={chosen ? a : (names.find((n) => n !== dense) ?? dense)}>
              {names.map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </label>
          <label>
            second
            <select name="b" defaultValue={chosen ? b : dense}>
              {names.map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </label>
          <button type="submit">Compare</button>
        </form>
      )}
      {!isExport && (a || b) && !chosen && (
        <p className="note">Unknown architecture or run id: {[a, b].filter((n) => n && !names.includes(n)).join(', ')}.</p>
      )}
      {chosen && (runA || runB) && (
        <section className="run-pair">
          <h2>
            {runA ? `run ${runA.id}` : a} vs {runB ? `run ${runB.id}` : b}
          </h2>
          {runA && runB ? (
            <RunPairChart a={runA} b={runB} />
          ) : (
            <p className="muted small">One side is an architecture: its runs are compared below.</p>
          )}
          <p className="muted small">Below: the two runs’ architectures on every task.</p>
        </section>
      )}
      {chosen && <ComparePairs store={st.store} a={a} b={b} />}
    </>
  );
}
