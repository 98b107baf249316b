// The lab extension registry: `up` starts the wanted ones in this order, `down` stops all
// in reverse (each knows from the lab directory whether it has anything to stop).
import { LabError } from '../errors.js';
import { frrExtension } from '../frr/extension.js';
import { strategiesExtension } from '../migration/strategy-extension.js';
import { Registry } from '../registry.js';
import { translatorsExtension } from '../translator/extension.js';
import { workloadsExtension } from '../workload/start.js';
import type { LabExtension } from './extension.js';
import { execExtension } from './node-exec.js';

const extensions = new Registry<LabExtension>('lab extension', 'lab extensions', (m) => new LabError(m));

export function registerLabExtension(x: LabExtension): Disposable {
  return extensions.register(x.name, x);
}

/** In start order. */
export function labExtensions(): LabExtension[] {
  return [...extensions.entries.values()];
}

// The built-ins go through the same door as a user's plugin. exec lines first: they configure
// the nodes (addresses, routes) that everything after them expects; then FRR's routing.
for (const x of [execExtension, frrExtension, translatorsExtension, strategiesExtension, workloadsExtension]) registerLabExtension(x);
