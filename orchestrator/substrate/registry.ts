import { SubstrateError } from '../errors.js';
import { Registry } from '../registry.js';
import type { Substrate } from './substrate.js';
import { NetnsSubstrate } from './netns/netns.js';
import { MininetSubstrate } from './mininet/mininet.js';
import { DockerSubstrate } from './docker/docker.js';
import { SshSubstrate } from './ssh/ssh.js';

const substrates = new Registry<() => Substrate>('substrate', 'substrates', (m) => new SubstrateError(m));

export const DEFAULT_SUBSTRATE = 'netns';

export function registerSubstrate(name: string, factory: () => Substrate): Disposable {
  return substrates.register(name, factory);
}

export function substrateNames(): string[] {
  return substrates.names();
}

/** For a topology that declares hosts when neither flag nor environment names one. */
export const HOSTS_SUBSTRATE = 'ssh';

/** flag → WARPLAB_SUBSTRATE → ssh when the topology has hosts → netns. */
export function getSubstrate(flag?: string, hasHosts = false): Substrate {
  return substrates.get(flag ?? process.env.WARPLAB_SUBSTRATE ?? (hasHosts ? HOSTS_SUBSTRATE : DEFAULT_SUBSTRATE))();
}

// The built-ins go through the same door as a user's plugin.
registerSubstrate('netns', () => new NetnsSubstrate());
registerSubstrate('mininet', () => new MininetSubstrate());
registerSubstrate('docker', () => new DockerSubstrate());
registerSubstrate('ssh', () => new SshSubstrate());
