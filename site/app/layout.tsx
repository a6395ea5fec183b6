import type { Metadata } from 'next';
import Link from 'next/link';
import { connection } from 'next/server';
import type { ReactNode } from 'react';
import { isExport } from '../lib/mode.ts';
import './globals.css';

export const metadata: Metadata = {
  title: { default: 'middlepath leaderboard', template: '%s · middlepath' },
  description: 'Efficient training, measured: dense vs mixture-of-experts vs hybrid in FLOPs, seconds and joules.',
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  // Live pages render per request so each carries the proxy's script nonce; a page
  // prerendered at build time could not, and the CSP would block its scripts.
  if (!isExport) await connection();
  return (
    <html lang="en">
      <body>
        <header className="site-header">
          <Link href="/" className="brand" prefetch={false}>
            middlepath
          </Link>
          <nav aria-label="site">
            <Link href="/" prefetch={false}>
              Leaderboard
            </Link>
            <Link href="/findings" prefetch={false}>
              Findings
            </Link>
            <Link href="/scaling" prefetch={false}>
              Scaling
            </Link>
            <Link href="/laws" prefetch={false}>
              Laws
            </Link>
            <Link href="/compare" prefetch={false}>
              Compare
            </Link>
            <Link href="/submissions" prefetch={false}>
              Submissions
            </Link>
            {!isExport && (
              <Link href="/queue" prefetch={false}>
                Queue
              </Link>
            )}
            <Link href="/methods" prefetch={false}>
              Methods
            </Link>
            <Link href="/docs/running" prefetch={false}>
              Docs
            </Link>
          </nav>
        </header>
        <main>{children}</main>
        <footer className="site-footer">
          Leaderboard figures are means over seeds with their 95% interval, and runs are ranked only against runs on the same hardware
          class; a run’s page shows that one run. See <Link href="/methods">methods</Link>.
        </footer>
      </body>
    </html>
  );
}
