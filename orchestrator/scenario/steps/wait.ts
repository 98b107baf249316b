// wait: let the streams record (a lead-in before a migration, a tail after it).
import type { StepKind } from '../step.js';
import { pause } from './where.js';

/** 500 (ms), "500ms", "1.5s" → milliseconds (the schema has checked the form). */
export function durationMs(v: number | string): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s)$/.exec(v.trim())!;
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
}

export const waitStep: StepKind<{ ms: number }> = {
  name: 'wait',
  summary: 'pause while the streams record: `wait: 500` (ms), `wait: 1.5s`',
  parse: (raw: number | string) => ({ ms: durationMs(raw) }),
  describe: (a) => `wait ${a.ms} ms`,
  check: () => {},
  run: async (a, ctx) => {
    await pause(a.ms, ctx.signal);
  },
};
