/** Route parameters as the pages see them. */

/**
 * A dynamic segment's value. Next hands segments over still percent-encoded in some
 * paths (static export) and decoded in others; names are matched exactly against the
 * store, so decode exactly once, leaving a value that is not valid encoding as it came.
 */
export function segment(s: string): string {
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export type SearchParams = Promise<Record<string, string | string[] | undefined>>;
