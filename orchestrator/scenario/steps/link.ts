// cut / restore: take a link down (for a while, or until a restore step) and bring it back.
// The node where it happens is watched with `ip monitor` in every trial, so the cut lands on
// the timeline when the kernel saw it, and its window shows in the report.
import type { LinkSpec } from '../../topology/model.js';
import type { RunContext, StepKind } from '../step.js';
import { cutPoint, findLink, few, linkName } from './where.js';

interface LinkArgs {
  link: string;
  /** cut only: restore by itself after this long (one `ip -batch`, so only the sleep separates the two). */
  forMs?: number;
}

const key = (i: number) => `link:${i}`;

function linkOf(ctx: RunContext, text: string): { index: number; spec: LinkSpec } {
  const index = findLink(ctx.lab.topology, text)!;
  return { index, spec: ctx.lab.topology.links[index]! };
}

async function setup(a: LinkArgs, ctx: RunContext): Promise<void> {
  const { index, spec } = linkOf(ctx, a.link);
  if (!ctx.cache.has(key(index))) ctx.cache.set(key(index), await cutPoint(ctx.lab, spec));
  ctx.monitored.add((ctx.cache.get(key(index)) as { node: string }).node);
}

function point(a: LinkArgs, ctx: RunContext): { node: string; dev: string } {
  return ctx.cache.get(key(linkOf(ctx, a.link).index)) as { node: string; dev: string };
}

function resolve(a: LinkArgs, ctx: Parameters<StepKind['check']>[1]): number | undefined {
  const i = findLink(ctx.topology, a.link);
  if (i === undefined) ctx.report(['link'], `no link "${a.link}" in topology ${ctx.topology.name}`, `links: ${few(ctx.topology.links.map(linkName), 6)}`);
  return i;
}

export const cutStep: StepKind<LinkArgs> = {
  name: 'cut',
  summary: 'take a link down: `cut: {link: "U:eth0 -- user", for-ms: 200}` (without for-ms, until a restore step)',
  parse: (raw) => ({ link: raw.link, ...(raw['for-ms'] !== undefined ? { forMs: raw['for-ms'] } : {}) }),
  describe: (a) => `cut ${a.link}${a.forMs !== undefined ? ` for ${a.forMs} ms` : ''}`,
  check: (a, ctx) => {
    const i = resolve(a, ctx);
    if (i === undefined) return;
    if (ctx.sim.cut.has(i)) ctx.report(['link'], `${a.link} is already cut at this point`, 'restore it first');
    else if (a.forMs === undefined) ctx.sim.cut.set(i, ctx.at);
  },
  setup,
  run: async (a, ctx) => {
    const { node, dev } = point(a, ctx);
    ctx.events.record('note', 'scenario', `cut ${a.link} (${node}:${dev})${a.forMs !== undefined ? ` for ${a.forMs} ms` : ''}`);
    const argv =
      a.forMs === undefined
        ? ['ip', 'link', 'set', 'dev', dev, 'down']
        : ['sh', '-c', `(echo 'link set dev ${dev} down'; sleep ${a.forMs / 1000}; echo 'link set dev ${dev} up') | ip -batch -`];
    await ctx.lab.shell(node).exec(argv, ctx.signal ? { signal: ctx.signal } : {});
  },
};

export const restoreStep: StepKind<LinkArgs> = {
  name: 'restore',
  summary: 'bring a cut link back up: `restore: {link: "U:eth0 -- user"}`',
  parse: (raw) => ({ link: raw.link }),
  describe: (a) => `restore ${a.link}`,
  check: (a, ctx) => {
    const i = resolve(a, ctx);
    if (i === undefined) return;
    if (!ctx.sim.cut.has(i)) ctx.report(['link'], `${a.link} is not cut at this point`, 'restore follows a cut without for-ms');
    ctx.sim.cut.delete(i);
  },
  setup,
  run: async (a, ctx) => {
    const { node, dev } = point(a, ctx);
    await ctx.lab.shell(node).exec(['ip', 'link', 'set', 'dev', dev, 'up'], ctx.signal ? { signal: ctx.signal } : {});
  },
};
