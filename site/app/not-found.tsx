import Link from 'next/link';

export default function NotFound() {
  return (
    <section className="empty" id="not-found">
      <h1>Not found</h1>
      <p>There is no such run, architecture or view in this store.</p>
      <p>
        <Link href="/">Back to the leaderboard</Link>
      </p>
    </section>
  );
}
