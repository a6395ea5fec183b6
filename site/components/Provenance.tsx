/** Where runs came from, as a mark beside them (results/provenance.ts says what each means). */
import { PROVENANCE_TEXT, type Provenance } from '../../harness/results/provenance.ts';

export function ProvenanceMark(props: { provenance: Provenance }) {
  return (
    <span
      className={`badge provenance provenance-${props.provenance}`}
      data-provenance={props.provenance}
      title={PROVENANCE_TEXT[props.provenance]}
    >
      {props.provenance}
    </span>
  );
}

/** The marks of a row's runs; a row of published baselines alone needs none. */
export function ProvenanceMarks(props: { provenance: readonly Provenance[] }) {
  const shown = props.provenance.filter((p) => p !== 'baseline');
  if (shown.length === 0) return null;
  return (
    <>
      {shown.map((p) => (
        <span key={p}>
          {' '}
          <ProvenanceMark provenance={p} />
        </span>
      ))}
    </>
  );
}
