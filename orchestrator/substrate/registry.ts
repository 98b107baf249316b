import { SubstrateError } from '../errors.js';
import type { Substrate } from './substrate.js';
import { NetnsSubstrate } from './netns/netns.js';
import { MininetSubstrate } from './mininet/mininet.js';

const factories = new Map<string, () => Substrate>([
  ['netns', () => new NetnsSubstrate()],
  ['mininet', () => new MininetSubstrate()],
]);

export const DEFAULT_SUBSTRATE = 'netns';

export function registerSubstrate(name: string, factory: () => Substrate): void {
  factories.set(name, factory);
}

export function substrateNames(): string[] {
  return [...factories.keys()];
}

/** flag → WARPLAB_SUBSTRATE → netns. */
export function getSubstrate(flag?: string): Substrate {
  const name = flag ?? process.env.WARPLAB_SUBSTRATE ?? DEFAULT_SUBSTRATE;
  const f = factories.get(name);
  if (!f) throw new SubstrateError(`substrate "${name}" is not supported. Supported substrates are ${substrateNames().map((n) => `"${n}"`).join(', ')}`);
  return f();
}
