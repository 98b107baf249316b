// The step registry: every kind a scenario may use, by the key it is written with.
import type { StepKind } from '../step.js';
import { execStep } from './exec.js';
import { cutStep, restoreStep } from './link.js';
import { migrateStep } from './migrate.js';
import { reachStep } from './reach.js';
import { switchStep } from './switch.js';
import { waitStep } from './wait.js';

export const stepKinds: ReadonlyMap<string, StepKind> = new Map([waitStep, migrateStep, switchStep, cutStep, restoreStep, execStep, reachStep].map((k) => [k.name, k]));

export function stepKind(name: string): StepKind | undefined {
  return stepKinds.get(name);
}
