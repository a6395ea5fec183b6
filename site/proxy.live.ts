/**
 * Every response of the live site carries the security headers (lib/security.ts). Pages get
 * a fresh script nonce per request: Next reads it from the request's CSP header and stamps
 * it on the scripts it renders, so no inline script runs without it.
 */
import { type NextRequest, NextResponse } from 'next/server';
import { contentSecurityPolicy, STATIC_SECURITY_HEADERS } from './lib/security.ts';

export function proxy(request: NextRequest): NextResponse {
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
