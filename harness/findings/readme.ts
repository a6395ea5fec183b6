/**
 * The findings section's place in its markdown file (docs/findings.md): the text between two
 * HTML comments, which render as nothing on GitHub. Everything outside the markers is left byte for byte.
 */

export const START_MARKER = '<!-- findings:start -->';
export const END_MARKER = '<!-- findings:end -->';
/** The README's answer paragraph, generated from the confirmatory tables only. */
export const ANSWER_START = '<!-- answer:start -->';
export const ANSWER_END = '<!-- answer:end -->';

/** What lies between the markers, or null when they are missing or out of order. */
export function currentSection(readme: string): string | null {
  const start = readme.indexOf(START_MARKER);
  const end = readme.indexOf(END_MARKER, start + START_MARKER.length);
  if (start < 0 || end < 0) return null;
  return readme.slice(start + START_MARKER.length, end);
}

/**
 * The README with the section between the markers replaced, or null without markers. The
 * section sits on its own lines between them, so the markers stay on theirs.
 */
export function replaceSection(readme: string, section: string, startMarker = START_MARKER, endMarker = END_MARKER): string | null {
  const start = readme.indexOf(startMarker);
  const end = readme.indexOf(endMarker, start + startMarker.length);
  if (start < 0 || end < 0) return null;
  return `${readme.slice(0, start + startMarker.length)}\n\n${section.trim()}\n\n${readme.slice(end)}`;
}
