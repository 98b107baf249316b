// Every plugin point has the same shape: a registered plugin is found by name and listed,
// an unknown name is refused with the list of the built-ins.
import assert from 'node:assert/strict';
import { driverFor, driverKinds, registerMigrationDriver } from '../../migration/driver.js';
import type { MigrationDriver } from '../../migration/driver-types.js';
import { getStrategy, registerStrategy, strategyNames } from '../../migration/strategy.js';
import type { AddressStrategy } from '../../migration/strategy-types.js';
import { getReporter, registerReporter, reporters } from '../../report/reporter.js';
import type { Reporter } from '../../report/reporter-types.js';
import type { StepKind } from '../../scenario/step.js';
import { getStep, registerStep, stepKind, stepKinds } from '../../scenario/steps/index.js';
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
      builtins: ['netns', 'mininet', 'docker', 'ssh'],
      refused: /substrate "fake" is not supported. Supported substrates are "netns", "mininet", "docker", "ssh"$/,
    });
  });

  it('migration drivers', () => {
    const fake = { name: 'fake', kind: 'fake' } as unknown as MigrationDriver;
    pluginPoint({
      register: () => registerMigrationDriver('fake', () => fake),
      find: (k) => driverFor(k as WorkloadKind),
      names: driverKinds,
      fake,
      builtins: ['vm', 'container', 'placeholder'],
      refused: /workload kind "fake" is not supported. Supported workload kinds are "vm", "container", "placeholder"$/,
    });
  });

  it('address strategies', () => {
    const fake = { name: 'fake' } as unknown as AddressStrategy;
    pluginPoint({
      register: () => registerStrategy(fake),
      find: getStrategy,
      names: strategyNames,
      fake,
      builtins: ['network-paging', 'service-switching', 'routing-update', 'l2-overlay'],
      refused: /strategy "fake" is not supported. Supported strategies are "network-paging", "service-switching", "routing-update", "l2-overlay"$/,
    });
  });

  it('scenario steps (stepKind still answers undefined for an unknown kind)', () => {
    const fake = { name: 'fake' } as unknown as StepKind;
    pluginPoint({
      register: () => registerStep(fake),
      find: getStep,
      names: () => [...stepKinds.keys()],
      fake,
      builtins: ['wait', 'migrate', 'switch', 'cut', 'restore', 'exec', 'reach', 'rtt', 'http'],
      refused: /step kind "fake" is not supported. Supported step kinds are "wait", "migrate", "switch", "cut", "restore", "exec", "reach", "rtt", "http"$/,
    });
    assert.equal(stepKind('fake'), undefined);
  });

  it('reporters', () => {
    const fake = { name: 'fake' } as unknown as Reporter;
    pluginPoint({
      register: () => registerReporter(fake),
      find: getReporter,
      names: () => [...reporters.keys()],
      fake,
      builtins: ['json', 'markdown', 'junit', 'svg'],
      refused: /report format "fake" is not supported. Supported report formats are "json", "markdown", "junit", "svg"$/,
    });
  });
});
