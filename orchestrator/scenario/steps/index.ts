// The step registry: every kind a scenario may use, by the key it is written with.
import { LabError } from '../../errors.js';
import { Registry } from '../../registry.js';
import type { StepKind } from '../step.js';
import { execStep } from './exec.js';
import { httpStep } from './http.js';
import { cutStep, restoreStep } from './link.js';
import { migrateStep } from './migrate.js';
import { reachStep } from './reach.js';
import { rttStep } from './rtt.js';
import { switchStep } from './switch.js';
import { waitStep } from './wait.js';

const steps = new Registry<StepKind>('step kind', 'step kinds', (m) => new LabError(m));

export const stepKinds: ReadonlyMap<string, StepKind> = steps.entries;

export function registerStep(kind: StepKind): Disposable {
  return steps.register(kind.name, kind);
}

/** Undefined for an unknown name: the loader reports it at the step's place in the file. */
export function stepKind(name: string): StepKind | undefined {
  return stepKinds.get(name);
}

/** For a loaded scenario, whose kinds the loader already checked: an unknown one is a bug. */
export function getStep(name: string): StepKind {
  return steps.get(name);
}

// The built-ins go through the same door as a user's plugin.
for (const k of [waitStep, migrateStep, switchStep, cutStep, restoreStep, execStep, reachStep, rttStep, httpStep]) registerStep(k);
