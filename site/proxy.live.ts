/**
 * Every response of the live site carries the security headers (lib/security.ts). Pages get
 * a fresh script nonce per request: Next reads it from the request's CSP header and stamps
 * it on the scripts it renders, so no inline script runs without it.
 */
import { type NextRequest, NextResponse } from 'next/server';
import { contentSecurityPolicy, STATIC_SECURITY_HEADERS } from './lib/security.ts';

/** A path that decodes to a NUL or another control character, or does not decode at all, names no page. */
function badPath(pathname: string): boolean {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return true;
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  return /[\u0000-\u001f\u007f]/.test(decoded);
}

export function proxy(request: NextRequest): NextResponse {
  if (badPath(request.nextUrl.pathname)) {
    const refused = new NextResponse('Bad request: the path holds a NUL, a control character or a malformed escape\n', {
      status: 400,
      headers: { 'Content-Type': 'text/plain; charset=utf-8' },
    });
    for (const [k, v] of Object.entries(STATIC_SECURITY_HEADERS)) refused.headers.set(k, v);
    return refused;
  }
  const nonce = Buffer.from(crypto.randomUUID()).toString('base64');
  const csp = contentSecurityPolicy({ nonce });
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set('x-nonce', nonce);
  requestHeaders.set('Content-Security-Policy', csp);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  response.headers.set('Content-Security-Policy', csp);
  for (const [k, v] of Object.entries(STATIC_SECURITY_HEADERS)) response.headers.set(k, v);
  return response;
}
