// Every plugin point has the same shape: a registered plugin is found by name and listed,
// an unknown name is refused with the list of the built-ins.
import assert from 'node:assert/strict';
import { driverFor, driverKinds, registerMigrationDriver } from '../../migration/driver.js';
import type { MigrationDriver } from '../../migration/driver-types.js';
import { getStrategy, registerStrategy, strategyNames } from '../../migration/strategy.js';
import type { AddressStrategy } from '../../migration/strategy-types.js';
import { getSubstrate, registerSubstrate, substrateNames } from '../../substrate/registry.js';
import type { Substrate } from '../../substrate/substrate.js';
import type { WorkloadKind } from '../../topology/model.js';
import { RecordingShell } from '../helpers.js';

/** Registers `fake` as "fake", finds and lists it; once unregistered, "fake" is refused with the built-ins. */
function pluginPoint(p: { register(): Disposable; find(name: string): unknown; names(): string[]; fake: unknown; builtins: string[]; refused: RegExp }): void {
  {
    using _ = p.register();
    assert.equal(p.find('fake'), p.fake);
    assert.deepEqual(p.names(), [...p.builtins, 'fake']);
  }
  assert.deepEqual(p.names(), p.builtins);
  assert.throws(() => p.find('fake'), p.refused);
}

describe('registries', () => {
  it('substrates', () => {
    const fake: Substrate = { name: 'fake', missing: async () => [], create: async () => {}, shell: () => new RecordingShell(), destroy: async () => [] };
    pluginPoint({
      register: () => registerSubstrate('fake', () => fake),
      find: getSubstrate,
      names: substrateNames,
      fake,
      builtins: ['netns', 'mininet'],
      refused: /substrate "fake" is not supported. Supported substrates are "netns", "mininet"$/,
    });
  });

  it('migration drivers', () => {
    const fake = { name: 'fake', kind: 'fake' } as unknown as MigrationDriver;
    pluginPoint({
      register: () => registerMigrationDriver('fake', () => fake),
      find: (k) => driverFor(k as WorkloadKind),
      names: driverKinds,
      fake,
      builtins: ['vm', 'container'],
      refused: /workload kind "fake" is not supported. Supported workload kinds are "vm", "container"$/,
    });
  });

  it('address strategies', () => {
    const fake = { name: 'fake' } as unknown as AddressStrategy;
    pluginPoint({
      register: () => registerStrategy('fake', () => fake),
      find: getStrategy,
      names: strategyNames,
      fake,
      builtins: ['network-paging'],
      refused: /strategy "fake" is not supported. Supported strategies are "network-paging"$/,
    });
  });
});
