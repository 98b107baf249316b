// http: HTTP GETs of one URL at a steady rate from a node, their response times — Bifulco
// et al. 2011, Table I's web response time (10 GETs per second of a 1 MB file).
import { LabError } from '../../errors.js';
import { CURL_WRITE_OUT, curlConfig, parseTransfers } from '../../probe/curl.js';
import { summarize } from '../../probe/stats.js';
import type { StepKind } from '../step.js';
import { requireCapability, type Capability } from './capability.js';
import { labels, type Labels } from './labels.js';
import { checkNode, checkTarget, targetAddress, targetText } from './where.js';

interface HttpArgs extends Labels {
  from: string;
  /** A node, a workload or an address; port 80. */
  to: string;
  path: string;
  count: number;
  /** Requests started per second (curl --rate). */
  rate: number;
}

const curlHasRate: Capability = {
  name: 'curl --rate',
  argv: ['curl', '--help', 'all'],
  shows: /--rate\b/,
  missing: 'its curl cannot pace requests (no option --rate, curl ≥ 7.84), or there is no curl: install curl (bash ci/setup.sh does)',
};

/** {"404": 2, "200": 98} for ["200", "404", …]. */
function tally(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}

/** "404 ×2, 000 ×1". */
const tallyText = (counts: Record<string, number>, unit = '') => Object.entries(counts).map(([v, n]) => `${v}${unit} ×${n}`).join(', ');

/** "1048576 B" when every download had that size, else each size with its count. */
function sizeText(sizes: Record<string, number>): string {
  const all = Object.keys(sizes);
  return all.length === 0 ? 'no download' : all.length === 1 ? `${all[0]} B` : tallyText(sizes, ' B');
}

export const httpStep: StepKind<HttpArgs> = {
  name: 'http',
  summary: 'HTTP GET response times: `http: {from: U, to: vm-a, path: /1M, count: 100, rate: 10, label: "not migrated", reference: "3.4 ms"}`',
  parse: (raw) => ({
    from: raw.from,
    to: raw.to,
    path: raw.path ?? '/',
    count: raw.count ?? 10,
    rate: raw.rate ?? 10,
    ...labels(raw),
  }),
  describe: (a) => `http ${a.from} → ${a.to}${a.path}: ${a.count} GETs at ${a.rate}/s`,
  check: (a, ctx) => {
    checkNode(ctx, ['from'], a.from);
    checkTarget(ctx, ['to'], a.to);
  },
  setup: (a, ctx) => requireCapability(ctx, a.from, curlHasRate),
  run: async (a, ctx) => {
    const address = targetAddress(ctx.lab.topology, a.to)!;
    const url = `http://${address}${a.path}`;
    // One process for all: -K - reads the transfers from stdin (no argv limit), -q ignores a
    // .curlrc, --noproxy: the orchestrator's proxy settings must not reach the lab.
    const argv = ['curl', '-q', '-K', '-', '--rate', `${a.rate}/s`, '-s', '--noproxy', '*', '--connect-timeout', '3', '--max-time', '60', '-w', CURL_WRITE_OUT];
    const r = await ctx.lab.shell(a.from).exec(argv, { check: false, input: curlConfig(url, a.count), env: { LC_ALL: 'C' }, ...(ctx.signal ? { signal: ctx.signal } : {}) });
    const transfers = parseTransfers(r.stdout);
    // Every transfer writes its line, failed or not: none means curl did not run.
    if (!transfers.length) throw new LabError(`curl on ${a.from} made no transfer (exit ${r.exitCode}): ${r.stderr.trim() || r.stdout.trim()}`);
    const ok = transfers.filter((t) => t.status === 200 && t.curlExit === 0);
    const timeMs = summarize(ok.map((t) => t.ms));
    const statuses = tally(transfers.map((t) => String(t.status).padStart(3, '0')));
    const non200 = transfers.filter((t) => t.status !== 200).length;
    const notOk = Object.fromEntries(Object.entries(statuses).filter(([s]) => s !== '200'));
    const brokenOff = tally(transfers.filter((t) => t.status === 200 && t.curlExit !== 0).map((t) => String(t.curlExit)));
    const sizes = tally(ok.map((t) => String(t.bytes)));
    const to = targetText(a.to, address);
    const failures = [
      ...(transfers.length < a.count ? [`curl reported ${transfers.length} of ${a.count} requests (exit ${r.exitCode})`] : []),
      ...(non200 ? [`${non200} of ${transfers.length} responses from ${url} were not 200: ${tallyText(notOk)}${notOk['000'] ? ' (000: no response)' : ''}`] : []),
      ...(Object.keys(brokenOff).length ? [`downloads of ${url} that ended early: curl exit ${tallyText(brokenOff)} (18: shorter than its Content-Length, 28: timed out)`] : []),
    ];
    return {
      details: {
        ...labels(a),
        from: a.from,
        to: a.to,
        url,
        rate: a.rate,
        requests: a.count,
        responses: transfers.length,
        statuses,
        non200,
        ...(Object.keys(brokenOff).length ? { curlErrors: brokenOff } : {}),
        sizes,
        timeMs,
      },
      measurement: {
        ...labels(a),
        what: `HTTP GET ${a.path} ${a.from} → ${to}, ${a.count} at ${a.rate}/s`,
        summary: timeMs,
        ...(ok.length < a.count ? { missing: `${a.count - ok.length} failed` } : {}),
        detail: sizeText(sizes),
      },
      ...(failures.length ? { failures } : {}),
    };
  },
};
