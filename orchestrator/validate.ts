// What `warplab validate` does with one file, as a library call: tell a scenario from a
// topology and check it with its own loader. Tests call this, so they check what the CLI checks.
import { readFile } from 'node:fs/promises';
import { TopologyError } from './errors.js';
import { parseScenario, ScenarioError } from './scenario/load.js';
import type { Scenario } from './scenario/model.js';
import type { Topology } from './topology/model.js';
import { parseTopology } from './topology/load.js';

export type Validated = { kind: 'scenario'; scenario: Scenario } | { kind: 'topology'; topology: Topology };

/** A scenario names its schema or has steps; anything else is read as a topology. */
const isScenario = (text: string) => text.includes('scenario.schema.json') || /^steps\s*:/m.test(text);

/** The errors that mean "this file is invalid" (with its file:line:col issues); anything else is a bug. */
export function isValidationError(e: unknown): e is TopologyError | ScenarioError {
  return e instanceof TopologyError || e instanceof ScenarioError;
}

/** Throws TopologyError or ScenarioError listing every problem of the file. */
export async function validateFile(file: string): Promise<Validated> {
  const text = await readFile(file, 'utf8');
  return isScenario(text) ? { kind: 'scenario', scenario: parseScenario(text, file) } : { kind: 'topology', topology: parseTopology(text, file) };
}
