// Benchmark: the translator's data plane and control path. Plain forwarding vs the nftables
// and ebpf backends at 2, 1 000 and 100 000 pages, measured back to back in one run on a
// chain a — r — b (netns labs named xb*). Prints the method and one table.
//   sudo npm run bench:translator [-- --seconds 2 --switches 100 --only ebpf-1000,nftables-2 --nft-budget 45]
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Interrupted } from '../errors.js';
import { up, type StartedLab } from '../lab/lab.js';
import { packageRoot } from '../paths.js';
import type { BackgroundProcess } from '../shell/shell.js';
import { agentSocket, ask } from '../translator/agent.js';
import type { Backend } from '../topology/model.js';
import { parseTopology } from '../topology/load.js';
import { benchArgs } from './args.js';

const args = benchArgs({ seconds: '2', switches: '100', 'nft-budget': '45', only: '' });
const UDP_S = Number(args.seconds); // one UDP run; TCP runs take 3/4 of it
const TCP_S = Math.max(1, Math.round(UDP_S * 0.75));
const SWITCHES = Number(args.switches);
const SWITCH_BUDGET_MS = 25_000; // per configuration: slow backends do fewer switches…
const MIN_SWITCHES = 3; // …but at least these, when they fit in
const MIN_SWITCHES_BUDGET_MS = 40_000;
const NFT_BUDGET_S = Number(args['nft-budget']); // bound on one apply of a big set
const only = args.only.split(',').filter(Boolean);

const BLAST = join(packageRoot, 'agents', 'build', 'udp-blast');
const SEND_CPU = '0'; // sender (and so the whole forwarding path, in its softirq) on CPU 0
const SINK_CPU = availableParallelism() > 1 ? '1' : '0';
const A = '10.0.1.2';
const B = '10.0.2.2';
const WAN1 = '150.1.0.2';
const WAN2 = '150.2.0.2';

interface Config {
  id: string;
  backend?: Backend;
  pages: number;
}
const CONFIGS: Config[] = (
  [
    { id: 'ebpf-2', backend: 'ebpf', pages: 2 },
    { id: 'ebpf-1000', backend: 'ebpf', pages: 1000 },
    { id: 'ebpf-100000', backend: 'ebpf', pages: 100_000 },
    { id: 'nftables-2', backend: 'nftables', pages: 2 },
    { id: 'nftables-1000', backend: 'nftables', pages: 1000 },
    { id: 'nftables-100000', backend: 'nftables', pages: 100_000 },
  ] as Config[]
).filter((c) => !only.length || only.includes(c.id));

let interrupted = false;
const onSignal = () => {
  process.stderr.write(interrupted ? 'still taking the labs down…\n' : '\ninterrupted: finishing the current step, then taking the labs down\n');
  interrupted = true;
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
function checkInterrupt(): void {
  if (interrupted) throw new Interrupted('interrupted');
}

// ---------------------------------------------------------------- topology and pages

function chainYaml(name: string, backend?: Backend): string {
  const r = backend
    ? `{kind: edge-router, translator: {lan: [eth0], backend: ${backend}, pages: [{lan: ${A}/32, wan: ${WAN1}/32}, {lan: 10.0.2.0/24, pass: true}]}, ` +
      `interfaces: {eth0: {ipv4: 10.0.1.1/24}, eth1: {ipv4: 10.0.2.1/24}}}`
    : `{kind: router, interfaces: {eth0: {ipv4: 10.0.1.1/24}, eth1: {ipv4: 10.0.2.1/24}}}`;
  return [
    `name: ${name}`,
    'nodes:',
    `  a: {kind: host, interfaces: {eth0: {ipv4: ${A}/24}}, routes: [{to: default, via: 10.0.1.1}]}`,
    `  r: ${r}`,
    `  b: {kind: host, interfaces: {eth0: {ipv4: ${B}/24}}, routes: [{to: default, via: 10.0.2.1}]}`,
    'links: [a:eth0 -- r:eth0, r:eth1 -- b:eth0]',
    '',
  ].join('\n');
}

const ip = (n: number) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

/**
 * The whole set: n − 2 filler pages (/32, 10.128.0.0+i → 160.0.0.0+i, unused space), then
 * the traffic's two pages (a's /32, b's /24 pass) last: the worst place for a linear rule
 * list (nftables evaluates rules in order, longest prefix first), no matter for an LPM trie.
 */
function ruleSet(n: number): string[] {
  const lines: string[] = [];
  for (let i = 0; i < n - 2; i++) lines.push(`page ${ip(0x0a800000 + i)}/32 wan ${ip(0xa0000000 + i)}/32 contiguous`);
  lines.push(`page ${A}/32 wan ${WAN1}/32 contiguous`, 'page 10.0.2.0/24 pass');
  return lines;
}

// ---------------------------------------------------------------- measurements

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

let ksoftirqd: string[] | undefined;
/** CPU time (ns, exact: schedstat's sum_exec_runtime) of the ksoftirqd threads. */
function ksoftirqdNs(): number {
  ksoftirqd ??= readdirSync('/proc').filter((d) => {
    try {
      return /^\d+$/.test(d) && readFileSync(`/proc/${d}/comm`, 'utf8').startsWith('ksoftirqd/');
    } catch {
      return false;
    }
  });
  return ksoftirqd.reduce((s, p) => s + Number(readFileSync(`/proc/${p}/schedstat`, 'utf8').split(' ')[0]), 0);
}

const json = (s: string, what: string): Record<string, number> => {
  const line = s.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as Record<string, number>;
  } catch {
    throw new Error(`${what}: unexpected output ${JSON.stringify(s.slice(-300))}`);
  }
};

interface Udp {
  pps: number;
  cpuNsPerPkt: number;
}

/** One UDP run a → b: pps at the sink, CPU per delivered packet. */
async function udpRun(lab: StartedLab): Promise<Udp> {
  const k0 = ksoftirqdNs();
  const sink = lab.shell('b').exec(['taskset', '-c', SINK_CPU, BLAST, 'sink', '9000', String(UDP_S + 4)], { timeoutMs: (UDP_S + 15) * 1000 });
  sink.catch(() => {}); // awaited below; never an unhandled rejection meanwhile
  await sleep(150);
  const send = await lab.shell('a').exec(['taskset', '-c', SEND_CPU, BLAST, 'send', B, '9000', String(UDP_S)], { timeoutMs: (UDP_S + 15) * 1000 });
  const recv = await sink;
  const k1 = ksoftirqdNs();
  const s = json(send.stdout, 'udp-blast send');
  const r = json(recv.stdout, 'udp-blast sink');
  if (!r.packets) throw new Error(`${lab.name}: no UDP packet reached b (sent ${s.packets})`);
  return { pps: r.pps!, cpuNsPerPkt: (s.cpu_ns! + r.cpu_ns! + (k1 - k0)) / r.packets };
}

/** One TCP run a → b: Gbit/s at the sink. */
async function tcpRun(lab: StartedLab): Promise<number> {
  const sink = lab.shell('b').exec(['taskset', '-c', SINK_CPU, BLAST, 'tcp-sink', '5001', String(TCP_S + 4)], { timeoutMs: (TCP_S + 15) * 1000 });
  sink.catch(() => {});
  await sleep(150);
  await lab.shell('a').exec(['taskset', '-c', SEND_CPU, BLAST, 'tcp-send', B, '5001', String(TCP_S)], { timeoutMs: (TCP_S + 15) * 1000 });
  const r = json((await sink).stdout, 'udp-blast tcp-sink');
  return r.seconds ? (r.bytes! * 8) / r.seconds / 1e9 : 0;
}

/**
 * A B B A: the plain lab and the configuration alternate, so drift of a noisy machine
 * hits both sides alike; the ratio is mean(config) / mean(the plain runs beside it).
 */
async function abba<T>(plain: StartedLab, lab: StartedLab, run: (l: StartedLab) => Promise<T>): Promise<{ plain: T[]; cfg: T[] }> {
  const out = { plain: [] as T[], cfg: [] as T[] };
  for (const [l, side] of [
    [plain, 'plain'],
    [lab, 'cfg'],
    [lab, 'cfg'],
    [plain, 'plain'],
  ] as const) {
    checkInterrupt();
    out[side].push(await run(l));
  }
  return out;
}

interface Switches {
  n: number;
  kernelUs: number[];
  rttUs: number[];
  firstPacketUs: number[];
  missed: number;
  probeUs: number;
  note?: string;
}

/**
 * Switches a's page between two WAN prefixes while a paced probe stream runs a → b; b prints
 * the arrival time (CLOCK_MONOTONIC) of each packet whose source differs from the previous
 * one. First packet on the new path = arrival of the first packet from the new WAN address
 * − the instant before the control call (process.hrtime, the same clock).
 */
async function switches(lab: StartedLab, probeUs: number, count: number, askTimeoutMs: number): Promise<Switches> {
  const sock = agentSocket(lab, 'r');
  const log = (n: string) => join(lab.path, `${n}.log`);
  const procs: BackgroundProcess[] = [];
  const calls: { t: bigint; to: string; kernelUs: number; rttUs: number }[] = [];
  try {
    procs.push(lab.shell('b').spawn(['taskset', '-c', SINK_CPU, BLAST, 'watch', '9100', '600'], { logFile: log('watch') }));
    await sleep(100);
    procs.push(lab.shell('a').spawn(['taskset', '-c', SEND_CPU, BLAST, 'probe', B, '9100', '600', String(probeUs)], { logFile: log('probe') }));
    await sleep(300 + (probeUs * 5) / 1000);
    const t0 = performance.now();
    for (let i = 0; i < count && (i < MIN_SWITCHES || performance.now() - t0 < SWITCH_BUDGET_MS); i++) {
      checkInterrupt();
      const to = i % 2 === 0 ? WAN2 : WAN1;
      // The request control.ts's switchPage sends, with a timeout that fits slow backends.
      const line = `switch ${A}/32 wan ${to}/32 contiguous`;
      const t = process.hrtime.bigint();
      const res = await ask(sock, [line], askTimeoutMs);
      const rttUs = Number(process.hrtime.bigint() - t) / 1000;
      calls.push({ t, to, kernelUs: res.kernel_us as number, rttUs });
      // Until the new path has surely carried packets (a few probe periods), plus jitter
      // so switches do not lock onto the probe's phase.
      await sleep(10 + (probeUs * 4) / 1000 + Math.random() * 5);
    }
    await sleep(20 + (probeUs * 4) / 1000);
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => Promise.race([p.exited, sleep(3000)])));
  }
  // {"t_ns":ARRIVAL,"src":"A.B.C.D",…}: one line per change of source address.
  const seen = [...readFileSync(log('watch'), 'utf8').matchAll(/^\{"t_ns":(\d+),"src":"([\d.]+)"/gm)].map((m) => ({ t: BigInt(m[1]!), src: m[2]! }));
  const firstPacketUs: number[] = [];
  let missed = 0;
  calls.forEach((c, i) => {
    const until = calls[i + 1]?.t ?? 1n << 62n;
    const hit = seen.find((s) => s.src === c.to && s.t >= c.t && s.t < until);
    if (hit) firstPacketUs.push(Number(hit.t - c.t) / 1000);
    else missed++;
  });
  return { n: calls.length, kernelUs: calls.map((c) => c.kernelUs), rttUs: calls.map((c) => c.rttUs), firstPacketUs, missed, probeUs };
}

// ---------------------------------------------------------------- one configuration

interface Row {
  id: string;
  pages: number;
  udp?: { pps: number; ratio: number; cpu: number; cpuRatio: number; cpuPlain: number };
  tcp?: { gbps: number; ratio: number };
  load?: { kernelMs: number; rttMs: number };
  sw?: Switches;
  skipped?: string;
}

async function measure(c: Config, plain: StartedLab, stateDir: string, plainRuns: { udp: Udp[]; tcp: number[] }): Promise<Row> {
  const row: Row = { id: c.id, pages: c.pages };
  const name = `xb${c.backend === 'ebpf' ? 'e' : 'n'}${c.pages}`;
  process.stderr.write(`${c.id}: up… `);
  await using lab = await up(parseTopology(chainYaml(name, c.backend)), { stateDir });
  const sock = agentSocket(lab, 'r');

  // Rule load: one apply of the whole set through the agent (replacing the 2 boot pages).
  process.stderr.write('load… ');
  const lines = ruleSet(c.pages);
  const t = performance.now();
  const timeoutMs = c.backend === 'nftables' ? NFT_BUDGET_S * 1000 : 60_000;
  let res: Record<string, any>;
  try {
    res = await ask(sock, ['apply', ...lines, 'end'], timeoutMs);
  } catch (e) {
    if (!/did not answer within/.test((e as Error).message)) throw e;
    row.skipped = `skipped: applying ${c.pages.toLocaleString('en')} pages did not finish within ${timeoutMs / 1000} s (bound --nft-budget)`;
    process.stderr.write(row.skipped + '\n');
    return row;
  }
  const rttMs = performance.now() - t;
  if (res.pages !== c.pages) throw new Error(`${c.id}: the agent holds ${res.pages} pages, expected ${c.pages}`);
  row.load = { kernelMs: res.kernel_us / 1000, rttMs };
  checkInterrupt();

  process.stderr.write('udp… ');
  const u = await abba(plain, lab, udpRun);
  plainRuns.udp.push(...u.plain);
  const pps = mean(u.cfg.map((x) => x.pps));
  const cpu = mean(u.cfg.map((x) => x.cpuNsPerPkt));
  const cpuPlain = mean(u.plain.map((x) => x.cpuNsPerPkt));
  row.udp = { pps, ratio: pps / mean(u.plain.map((x) => x.pps)), cpu, cpuRatio: cpu / cpuPlain, cpuPlain };

  process.stderr.write('tcp… ');
  const tc = await abba(plain, lab, tcpRun);
  plainRuns.tcp.push(...tc.plain);
  row.tcp = { gbps: mean(tc.cfg), ratio: mean(tc.cfg) / mean(tc.plain) };

  // Probe at ≤ 10 % of what the path forwards, and no faster than every 100 µs.
  const probeUs = Math.max(100, Math.ceil(1e6 / (pps * 0.1)));
  // A switch costs about an apply on nftables (the chains are regenerated): bound the count.
  const perSwitchMs = c.backend === 'nftables' ? rttMs + 10 + (probeUs * 4) / 1000 : 15;
  if (perSwitchMs * MIN_SWITCHES > MIN_SWITCHES_BUDGET_MS) {
    row.sw = { n: 0, kernelUs: [], rttUs: [], firstPacketUs: [], missed: 0, probeUs, note: `skipped: one switch regenerates the chains (≈ ${(rttMs / 1000).toFixed(1)} s each)` };
  } else {
    process.stderr.write('switches… ');
    row.sw = await switches(lab, probeUs, SWITCHES, Math.max(5000, rttMs * 3));
  }
  process.stderr.write('down\n');
  return row;
}

// ---------------------------------------------------------------- table

const fmt = (x: number, d = 0) => x.toLocaleString('en', { minimumFractionDigits: d, maximumFractionDigits: d });
const mmm = (xs: number[], d = 0) => (xs.length ? `${fmt(Math.min(...xs), d)} / ${fmt(median(xs), d)} / ${fmt(Math.max(...xs), d)}` : '—');
const ratio = (x: number) => `${x.toFixed(2)}×`;

function printTable(rows: Row[], plainRuns: { udp: Udp[]; tcp: number[] }): void {
  const head = ['configuration', 'pages*', 'UDP kpps (×plain)', 'CPU ns/pkt (×plain, +ns)', 'TCP Gbit/s (×plain)', 'load: kernel / rtt ms', 'switch kernel µs min/med/max', 'switch rtt µs min/med/max', 'first pkt new path µs min/med/max', 'n (missed), probe'];
  const pPps = median(plainRuns.udp.map((x) => x.pps));
  const pCpu = median(plainRuns.udp.map((x) => x.cpuNsPerPkt));
  const body: string[][] = [];
  const spans = new Map<number, string>(); // row → text printed across the measurement columns
  if (plainRuns.udp.length) {
    body.push(['plain forwarding', '—', `${fmt(pPps / 1000, 1)} (1.00×)`, `${fmt(pCpu)} (1.00×)`, `${fmt(median(plainRuns.tcp), 1)} (1.00×)`, '—', '—', '—', '—', `${plainRuns.udp.length} runs`]);
  }
  for (const r of rows) {
    if (r.skipped) {
      spans.set(body.length, r.skipped);
      body.push([r.id, fmt(r.pages), '', '', '', '', '', '', '', '']);
      continue;
    }
    const sw = r.sw!;
    body.push([
      r.id,
      fmt(r.pages),
      `${fmt(r.udp!.pps / 1000, 1)} (${ratio(r.udp!.ratio)})`,
      `${fmt(r.udp!.cpu)} (${ratio(r.udp!.cpuRatio)}, ${r.udp!.cpu >= r.udp!.cpuPlain ? '+' : ''}${fmt(r.udp!.cpu - r.udp!.cpuPlain)})`,
      `${fmt(r.tcp!.gbps, r.tcp!.gbps < 0.1 ? 4 : 1)} (${ratio(r.tcp!.ratio)})`,
      `${fmt(r.load!.kernelMs, 2)} / ${fmt(r.load!.rttMs, 2)}`,
      sw.note ?? mmm(sw.kernelUs),
      sw.note ? '' : mmm(sw.rttUs),
      sw.note ? '' : mmm(sw.firstPacketUs),
      sw.note ? '' : `${sw.n} (${sw.missed}), ${fmt(sw.probeUs)} µs`,
    ]);
  }
  const w = head.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd();
  console.log(line(head));
  console.log(line(w.map((n) => '-'.repeat(n))));
  body.forEach((r, i) => console.log(spans.has(i) ? `${line(r.slice(0, 2))}  ${spans.get(i)}` : line(r)));

  console.log('* pages: the flow\'s own two (a\'s /32 and b\'s /24 pass: the fewest that translate it) + fillers.');
  const e = rows.find((r) => r.id === 'ebpf-100000' && r.udp);
  const eMed = rows.filter((r) => r.id.startsWith('ebpf') && r.sw?.rttUs.length).map((r) => median(r.sw!.rttUs));
  console.log('');
  if (e) console.log(`target: ebpf ≥ 0.85× plain pps at 100 000 pages: ${ratio(e.udp!.ratio)} → ${e.udp!.ratio >= 0.85 ? 'met' : 'NOT met'}`);
  if (eMed.length) console.log(`target: switch through the agent ≤ 1 ms median (ebpf; the paper's translator: 80 ms): worst median ${fmt(Math.max(...eMed) / 1000, 3)} ms → ${Math.max(...eMed) <= 1000 ? 'met' : 'NOT met'}`);
}

// ---------------------------------------------------------------- main

if (process.getuid?.() !== 0) {
  console.error('bench:translator needs root (network namespaces): sudo npm run bench:translator');
  process.exit(2);
}
if (!existsSync(BLAST)) {
  console.error(`${BLAST} is not built: make -C agents (or bash ci/setup.sh)`);
  process.exit(2);
}

const METHOD = `warplab translator benchmark — chain a — r — b (netns, veths); r an edge router whose translator holds N pages:
N − 2 filler /32 pages in unused space, then the flow's own two (a's /32 → ${WAN1}, b's /24 pass), placed last.
- UDP: udp-blast send (sendmmsg, 18-byte payload = 64-byte frames; CPU ${SEND_CPU}) → udp-blast sink in b (recvmmsg; CPU ${SINK_CPU}),
  ${UDP_S} s per run; pps = packets after the first batch / (last − first arrival). Plain and config runs alternate
  A B B A; ratio = mean(config) / mean(the two plain runs beside it); the plain row is the median of all plain runs.
- CPU ns/packet = (sender's + sink's CPU time [CLOCK_PROCESS_CPUTIME_ID] + Δ CPU time of the ksoftirqd threads
  [/proc/PID/schedstat]) / packets delivered. With veths the whole path (a's stack, r's tc/nft + forwarding, b's stack
  up to the socket) runs in softirq inline in the sender's send call on CPU ${SEND_CPU}; this kernel has no
  CONFIG_IRQ_TIME_ACCOUNTING, so that time is charged to the sender's task (counted once). Other tenants' CPU is not
  counted (no machine-wide /proc/stat); "+ns" = config − the plain runs beside it = the translator's cost per packet.
- TCP: one connection, 64 KiB writes, ${TCP_S} s per run, the same A B B A; Gbit/s at the sink (first → last byte).
- load: one 'apply' of the whole set through the agent's socket (replacing the 2 boot pages): the agent's kernel_us
  (ebpf: the map syscalls; nftables: the nft -f process) / the round trip of the call.
- switch: up to ${SWITCHES} 'switch' requests (what control.ts's switchPage sends, a new connection each) alternating a's
  page between ${WAN1} and ${WAN2}; ≤ ${SWITCH_BUDGET_MS / 1000} s per configuration, at least ${MIN_SWITCHES} if they fit in ${MIN_SWITCHES_BUDGET_MS / 1000} s.
  kernel = agent's kernel_us; rtt = control call → answer; first pkt = control call → arrival in b of the first probe
  packet from the new WAN address. Probe: a → b every P µs (≥ 100, ≤ 10 % of the measured pps); b stamps arrivals with
  CLOCK_MONOTONIC, the clock of process.hrtime: resolution ≈ P + b's wake-up. missed = new address not seen before
  the next switch.
`;

const stateDir = mkdtempSync(join(tmpdir(), 'warplab-bench-'));
const rows: Row[] = [];
const plainRuns = { udp: [] as Udp[], tcp: [] as number[] };
const started = performance.now();
try {
  console.log(METHOD);
  process.stderr.write('plain: up\n');
  await using plain = await up(parseTopology(chainYaml('xbplain')), { stateDir });
  for (const c of CONFIGS) {
    checkInterrupt();
    try {
      rows.push(await measure(c, plain, stateDir, plainRuns));
    } catch (e) {
      if (e instanceof Interrupted) throw e;
      process.stderr.write(`\n${c.id} failed: ${(e as Error).message}\n`);
      rows.push({ id: c.id, pages: c.pages, skipped: `failed: ${(e as Error).message.split('\n')[0]}` });
    }
  }
  console.log('');
  printTable(rows, plainRuns);
  console.log(`\n(${((performance.now() - started) / 1000).toFixed(0)} s)`);
} catch (e) {
  if (!(e instanceof Interrupted)) throw e;
  process.stderr.write('interrupted: labs taken down\n');
  process.exitCode = 130;
} finally {
  rmSync(stateDir, { recursive: true, force: true });
}
