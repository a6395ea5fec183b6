/**
 * A static export cannot send headers itself, so it carries them in a `_headers` file (the
 * format Netlify and Cloudflare Pages read; other hosts: copy the lines into their config).
 * No per-request nonce is possible there, so the CSP lists the sha256 of every inline
 * script the export's pages carry instead.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { contentSecurityPolicy, STATIC_SECURITY_HEADERS } from './lib/security.ts';

function htmlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.html'))
    .map((e) => join(e.parentPath, e.name));
}

/** The base64 sha256 of each distinct inline script in the HTML (what a CSP hash source names). */
export function inlineScriptHashes(html: string): string[] {
  const hashes = new Set<string>();
  for (const m of html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/gi)) {
    const body = m[1] ?? '';
    if (body) hashes.add(createHash('sha256').update(body, 'utf8').digest('base64'));
  }
  return [...hashes];
}

/** Write `<dir>/_headers` for the exported site in `dir`; returns the CSP it wrote. */
export function writeExportHeaders(dir: string): string {
  const hashes = new Set<string>();
  for (const f of htmlFiles(dir)) for (const h of inlineScriptHashes(readFileSync(f, 'utf8'))) hashes.add(h);
  const csp = contentSecurityPolicy({ scriptHashes: [...hashes].sort() });
  const lines = ['/*', `  Content-Security-Policy: ${csp}`, ...Object.entries(STATIC_SECURITY_HEADERS).map(([k, v]) => `  ${k}: ${v}`)];
  writeFileSync(join(dir, '_headers'), `${lines.join('\n')}\n`);
  return csp;
}
