// The address strategy registry, by the name a topology's `migration.strategy` uses, and the
// loader's door to each strategy's own settings (`migration.<name>`).
import { LabError, type Issue } from '../errors.js';
import { Registry } from '../registry.js';
import { DEFAULT_STRATEGY, type Topology } from '../topology/model.js';
import { schemaIssues } from '../topology/schema.js';
import { pathString, type Locator, type YamlPath } from '../topology/source.js';
import { L2Overlay } from './strategies/l2-overlay.js';
import { NetworkPaging } from './strategies/network-paging.js';
import { RoutingUpdate } from './strategies/routing-update.js';
import { ServiceSwitching } from './strategies/service-switching.js';
import type { AddressStrategy } from './strategy-types.js';

const strategies = new Registry<AddressStrategy>('strategy', 'strategies', (m) => new LabError(m));

export function registerStrategy(strategy: AddressStrategy<any, any>): Disposable {
  return strategies.register(strategy.name, strategy);
}

export function strategyNames(): string[] {
  return strategies.names();
}

export function getStrategy(name: string): AddressStrategy {
  return strategies.get(name);
}

/** Strategies a lab can move with: the topology's own, and every one it has settings for. */
export function usableStrategies(t: Topology): string[] {
  if (!t.migration) return [];
  return [...new Set([t.migration.strategy, ...Object.keys(t.migration.settings ?? {})])];
}

/** A strategy by name (default: the topology's), refused when the topology has no settings it needs. */
export function strategyFor(t: Topology, name = t.migration?.strategy ?? DEFAULT_STRATEGY): AddressStrategy {
  const s = getStrategy(name);
  if (t.migration && !usableStrategies(t).includes(name)) {
    throw new LabError(`strategy ${name} is not set up in topology ${t.name}: add its settings as migration.${name} (usable here: ${usableStrategies(t).join(', ')})`);
  }
  return s;
}

/** The lans the topology's strategies bridge into one segment at lab time (ForwardingModel's `joined`). */
export function joinedLans(t: Topology): string[][] {
  return Object.entries(t.migration?.settings ?? {}).flatMap(([name, s]) => strategies.entries.get(name)?.joinedLans?.(t, s) ?? []);
}

/**
 * Checks `migration.strategy` and each strategy's settings (`migration.<name>`: its schema
 * fragment, then its own checks against the topology), and stores them with defaults in `t`.
 * Runs once the topology itself is valid, so a strategy may use its routes.
 */
export function checkStrategySettings(t: Topology, raw: Record<string, any> | undefined, src: Locator, issues: Issue[]): void {
  if (!t.migration || !raw) return;
  const report = (path: YamlPath, message: string, hint?: string, key = false) =>
    issues.push({ pos: src.locate(path, key), path: pathString(path), message, ...(hint ? { hint } : {}) });
  if (!strategies.entries.has(t.migration.strategy)) {
    report(['migration', 'strategy'], `unknown strategy "${t.migration.strategy}"`, `strategies: ${strategyNames().join(', ')}`);
  }
  const configured = Object.keys(raw).filter((k) => k !== 'network' && k !== 'strategy');
  const settings: Record<string, unknown> = {};
  for (const name of [...new Set([t.migration.strategy, ...configured])]) {
    const strategy = strategies.entries.get(name);
    const at = ['migration', name];
    if (!strategy) {
      if (name !== t.migration.strategy) report(at, `settings for unknown strategy "${name}"`, `strategies: ${strategyNames().join(', ')}`, true);
      continue;
    }
    if (raw[name] !== undefined && !strategy.settingsSchema) {
      report(at, `strategy ${name} takes no settings`, undefined, true);
      continue;
    }
    const before = issues.length;
    if (strategy.settingsSchema) issues.push(...schemaIssues(src, raw[name] ?? {}, strategy.settingsSchema, at));
    if (issues.length > before) continue;
    settings[name] = strategy.settings(raw[name]);
    strategy.check?.(t, settings[name], report);
  }
  t.migration.settings = settings;
}

// The built-ins go through the same door as a user's plugin.
registerStrategy(new NetworkPaging());
registerStrategy(new ServiceSwitching());
registerStrategy(new RoutingUpdate());
registerStrategy(new L2Overlay());
