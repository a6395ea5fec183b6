/** What a visitor sees before any run exists, or when the store cannot be opened. */
export function EmptyStore(props: { where: string; reason?: string; kind?: 'missing' | 'error' }) {
  if (props.kind === 'error') {
    return (
      <section className="empty" id="store-error">
        <h1>The store cannot be read</h1>
        <p>{props.reason}</p>
        <p className="muted small">
          Store: <code>{props.where}</code>. The site opens it read-only; set <code>MIDDLEPATH_SQLITE</code> or <code>DATABASE_URL</code> to
          read another.
        </p>
      </section>
    );
  }
  return (
    <section className="empty" id="empty-store">
      <h1>No runs yet</h1>
      <p>
        No runs yet — run <code>npx middlepath run</code> first, then reload this page. The leaderboard reads the store as it fills, so a
        suite in progress shows up on reload.
      </p>
      <pre className="cmd">npx middlepath run --tier smoke{'\n'}npx middlepath site</pre>
      <p className="muted small">
        Store: <code>{props.where}</code>
        {props.reason ? ` — ${props.reason}` : ' — it holds no runs'}. Committed records in <code>results/</code> can be loaded with{' '}
        <code>npx middlepath ingest results</code>.
      </p>
    </section>
  );
}
