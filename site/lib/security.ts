/**
 * The security headers every page of the site carries, in one place: the live server's
 * proxy sends them per request (with a fresh script nonce), and a static export writes them
 * into a `_headers` file (with the hashes of the export's inline scripts instead) for the
 * host that publishes it.
 *
 * Scripts run only from the site's own origin or with the nonce/hashes; nothing may frame
 * the site; no plugins; forms post only to the site. Styles allow inline attributes because
 * the SSR charts (Observable Plot) write `style=""` on SVG elements; a style cannot run code.
 */
export interface CspSources {
  /** a per-request nonce (live site) */
  nonce?: string;
  /** sha256 hashes, base64, of the inline scripts a static page carries (export) */
  scriptHashes?: readonly string[];
}

export function contentSecurityPolicy(src: CspSources): string {
  const scripts = ["'self'"];
  if (src.nonce) scripts.push(`'nonce-${src.nonce}'`, "'strict-dynamic'");
  for (const h of src.scriptHashes ?? []) scripts.push(`'sha256-${h}'`);
  return [
    "default-src 'self'",
    `script-src ${scripts.join(' ')}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Headers beside the CSP (frame-ancestors covers framing; X-Frame-Options for older browsers). */
export const STATIC_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'same-origin',
};
