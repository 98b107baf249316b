// The migration driver registry: one driver per workload kind.
import { MigrationError } from '../errors.js';
import { Registry } from '../registry.js';
import type { WorkloadKind } from '../topology/model.js';
import { CriuDriver } from './criu/driver.js';
import type { MigrationDriver } from './driver-types.js';
import { PlaceholderDriver } from './placeholder/driver.js';
import { QemuDriver } from './qemu/driver.js';

const drivers = new Registry<() => MigrationDriver>('workload kind', 'workload kinds', (m) => new MigrationError(m));

export function registerMigrationDriver(kind: string, factory: () => MigrationDriver): Disposable {
  return drivers.register(kind, factory);
}

export function driverKinds(): string[] {
  return drivers.names();
}

export function driverFor(kind: WorkloadKind): MigrationDriver {
  return drivers.get(kind)();
}

// The built-ins go through the same door as a user's plugin.
registerMigrationDriver('vm', () => new QemuDriver());
registerMigrationDriver('container', () => new CriuDriver());
registerMigrationDriver('placeholder', () => new PlaceholderDriver());
