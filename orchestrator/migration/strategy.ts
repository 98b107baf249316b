// The address strategy registry, by the name a topology's `strategy:` uses.
import { LabError } from '../errors.js';
import { Registry } from '../registry.js';
import { NetworkPaging } from './strategies/network-paging.js';
import type { AddressStrategy } from './strategy-types.js';

const strategies = new Registry<() => AddressStrategy>('strategy', 'strategies', (m) => new LabError(m));

export function registerStrategy(name: string, factory: () => AddressStrategy): Disposable {
  return strategies.register(name, factory);
}

export function strategyNames(): string[] {
  return strategies.names();
}

export function getStrategy(name: string): AddressStrategy {
  return strategies.get(name)();
}

// The built-ins go through the same door as a user's plugin.
registerStrategy('network-paging', () => new NetworkPaging());
