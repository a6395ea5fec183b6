/** The protocol in force, bundled with the site from results/protocol.json (the same file `npm run findings` reads). */
import { type Protocol, parseProtocol } from '../../harness/results/protocol.ts';
import raw from '../../results/protocol.json';

export const PROTOCOL: Protocol = parseProtocol(JSON.stringify(raw), 'results/protocol.json');
