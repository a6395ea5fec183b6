/** The leaderboard's choices as groups of links: every state is a URL the server renders. */
import Link from 'next/link';
import type { ReactNode } from 'react';

export interface Choice {
  label: ReactNode;
  href: string | null; // null: not available here (title says why)
  current: boolean;
  title?: string;
  id: string;
}

export function ChoiceGroup(props: { name: string; legend: string; choices: Choice[] }) {
  return (
    <fieldset className="choice-group" data-group={props.name}>
      <legend className="choice-legend">{props.legend}</legend>
      <ul>
        {props.choices.map((c) => (
          <li key={c.id}>
            {c.href === null ? (
              <span className="chip disabled" title={c.title} aria-disabled="true" data-choice={c.id}>
                {c.label}
              </span>
            ) : (
              <Link
                href={c.href}
                prefetch={false}
                scroll={false}
                className={c.current ? 'chip current' : 'chip'}
                aria-current={c.current ? 'true' : undefined}
                title={c.title}
                data-choice={c.id}
              >
                {c.label}
              </Link>
            )}
          </li>
        ))}
      </ul>
    </fieldset>
  );
}
