// A program a step runs in a node must have the option it relies on (iputils ping's -R,
// curl's --rate): checked once per node and run before the first trial, so that a missing
// one stops the run with a sentence saying what to install instead of a trial of odd output.
import { LabError } from '../../errors.js';
import type { RunContext } from '../step.js';

export interface Capability {
  /** Cache key part: `ping -R`. */
  name: string;
  /** A command whose output (stdout and stderr) shows the option when it is there. */
  argv: string[];
  shows: RegExp;
  /** What is missing and what to do, after "NODE: ". */
  missing: string;
}

export async function requireCapability(ctx: RunContext, node: string, c: Capability): Promise<void> {
  const key = `capability:${c.name}:${node}`;
  if (ctx.cache.has(key)) return;
  const r = await ctx.lab.shell(node).exec(c.argv, { check: false, ...(ctx.signal ? { signal: ctx.signal } : {}) });
  if (!c.shows.test(`${r.stdout}\n${r.stderr}`)) throw new LabError(`${node}: ${c.missing}`);
  ctx.cache.set(key, true);
}
