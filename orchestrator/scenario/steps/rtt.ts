// rtt: ping round-trip times from a node to a node, workload or address, with the route the
// packets took (IP Record Route) — Bifulco et al. 2011, Table I's "ping RTT".
import { LabError } from '../../errors.js';
import { parsePing, RECORD_ROUTE_SLOTS, splitRoute } from '../../probe/ping.js';
import { summarize } from '../../probe/stats.js';
import type { StepKind } from '../step.js';
import { requireCapability, type Capability } from './capability.js';
import { labels, type Labels } from './labels.js';
import { checkNode, checkTarget, targetAddress, targetText } from './where.js';

interface RttArgs extends Labels {
  from: string;
  /** A node, a workload or an address. */
  to: string;
  count: number;
  intervalMs: number;
}

const pingRecordsRoutes: Capability = {
  name: 'ping -R',
  argv: ['ping', '-h'],
  shows: /^\s*-R\s/m,
  missing: 'its ping cannot record the route (no option -R; busybox ping has none): install iputils-ping (bash ci/setup.sh does)',
};

/** "4 routers: a → b → … ⇒ … → a": the way out, the turn, the way back as far as recorded. */
function routeText(route: readonly string[]): string {
  if (!route.length) return 'no route recorded';
  const { out, back, routers } = splitRoute(route);
  const cut = route.length === RECORD_ROUTE_SLOTS ? ' …' : '';
  return `${routers === null ? `≥ ${out.length - 1} routers` : `${routers} router${routers === 1 ? '' : 's'}`}: ${out.join(' → ')}${back.length ? ` ⇒ ${back.join(' → ')}` : ''}${cut}`;
}

export const rttStep: StepKind<RttArgs> = {
  name: 'rtt',
  summary: 'ping RTTs and the recorded route: `rtt: {from: U, to: vm-a, count: 50, interval-ms: 100, label: "not migrated", reference: "2.573 ms"}`',
  parse: (raw) => ({
    from: raw.from,
    to: raw.to,
    count: raw.count ?? 10,
    intervalMs: raw['interval-ms'] ?? 200,
    ...labels(raw),
  }),
  describe: (a) => `rtt ${a.from} → ${a.to}: ${a.count} pings every ${a.intervalMs} ms`,
  check: (a, ctx) => {
    checkNode(ctx, ['from'], a.from);
    checkTarget(ctx, ['to'], a.to);
  },
  setup: (a, ctx) => requireCapability(ctx, a.from, pingRecordsRoutes),
  run: async (a, ctx) => {
    const address = targetAddress(ctx.lab.topology, a.to)!;
    // -W 1: after the last request, wait at most 1 s for its reply; C: ping reads -i by locale.
    const argv = ['ping', '-n', '-R', '-c', String(a.count), '-i', String(a.intervalMs / 1000), '-W', '1', address];
    const r = await ctx.lab.shell(a.from).exec(argv, { check: false, env: { LC_ALL: 'C' }, ...(ctx.signal ? { signal: ctx.signal } : {}) });
    // 0: replies, 1: none; anything else is ping failing to run at all.
    if (r.exitCode !== 0 && r.exitCode !== 1) throw new LabError(`ping on ${a.from} failed (exit ${r.exitCode}): ${r.stderr.trim() || r.stdout.trim()}`);
    const p = parsePing(r.stdout);
    const lost = p.transmitted - p.rttMs.length;
    const [route = [], ...laterRoutes] = p.routes;
    const to = targetText(a.to, address);
    const rttMs = summarize(p.rttMs);
    const details = {
      ...labels(a),
      from: a.from,
      to: a.to,
      address,
      sent: p.transmitted,
      received: p.rttMs.length,
      lost,
      duplicates: p.duplicates,
      errors: p.errors,
      rttMs,
      route,
      hops: splitRoute(route).routers,
      ...(laterRoutes.length ? { laterRoutes } : {}),
    };
    const changed = laterRoutes.length ? `; the route changed ${laterRoutes.length}× during the run` : '';
    return {
      details,
      measurement: {
        ...labels(a),
        what: `ping RTT ${a.from} → ${to}`,
        summary: rttMs,
        ...(lost ? { missing: `${lost} lost` } : {}),
        detail: routeText(route) + changed,
      },
      // A mean of nothing is no measurement: a run without a reply fails.
      ...(rttMs ? {} : { failures: [`no reply from ${to} to ${p.transmitted} pings from ${a.from}${p.errors.length ? `: ${p.errors.join('; ')}` : ''}`] }),
    };
  },
};
