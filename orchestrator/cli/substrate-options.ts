// The flags that choose where a lab's nodes run, shared by `up` and `run`. The docker ones
// travel to the substrate as environment (WARPLAB_DOCKER_HOST, WARPLAB_STRICT_IMAGES), as a
// user would set them; `down` needs neither: the state records the engine.
import type { Command } from 'commander';
import { DEFAULT_SUBSTRATE, HOSTS_SUBSTRATE, substrateNames } from '../substrate/registry.js';

export interface SubstrateFlags {
  substrate?: string;
  dockerHost?: string;
  strictImages?: boolean;
}

export function withSubstrateOptions(c: Command): Command {
  return c
    .option('-s, --substrate <name>', `where nodes run: ${substrateNames().join(', ')} (env WARPLAB_SUBSTRATE; default ${HOSTS_SUBSTRATE} for a topology with hosts, else ${DEFAULT_SUBSTRATE})`)
    .option('--docker-host <socket>', "docker substrate: run the nodes on this daemon (unix:///var/run/docker.sock) instead of the lab's own engine (env WARPLAB_DOCKER_HOST, DOCKER_HOST)")
    .option('--strict-images', "docker substrate: a node's image that is not on the engine is an error, never replaced by warplab's node image");
}

export function applySubstrateFlags(o: SubstrateFlags): void {
  if (o.dockerHost) process.env.WARPLAB_DOCKER_HOST = o.dockerHost;
  if (o.strictImages) process.env.WARPLAB_STRICT_IMAGES = '1';
}
