// Benchmark: `up`/`down` time of the shipped topologies and of router chains on warplab's
// netns substrate, on its Mininet and docker substrates and on plain Mininet (sandboxed), in
// one run; then the cost of one command in a node through each path (the Mininet helper's
// JSON protocol, a node Shell's nsenter, docker exec). Then a chain spread over 1, 2 and 4 SSH
// hosts of the test rig (test/ssh-rig.ts) against the same chain on netns. Prints Markdown tables.
//   sudo npm run bench:updown [-- --repeat 3 --chains 10,50,100,200 --commands 200 --switch lxbr
//                                 --hosts 1,2,4 --hosts-chain 200 --only all|local|hosts]
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { up } from '../lab/lab.js';
import { packageRoot } from '../paths.js';
import { MininetSubstrate } from '../substrate/mininet/mininet.js';
import { registerSubstrate } from '../substrate/registry.js';
import { loadTopologyFile, parseTopology } from '../topology/load.js';
import type { Topology } from '../topology/model.js';
import { chainTopologyYaml } from './chain.js';
import { plainMininet } from './mininet-plain.js';
import { benchArgs } from './args.js';
import { SSHD, startSshRig } from '../test/ssh-rig.js';
import { closeSshConnections } from '../substrate/ssh/connections.js';
import { existsSync } from 'node:fs';
import { switchPage } from '../translator/control.js';

const args = benchArgs({ repeat: '3', chains: '10,50,100,200', commands: '200', switch: process.env.WARPLAB_MININET_SWITCH ?? 'lxbr', hosts: '1,2,4', 'hosts-chain': '200', only: 'all' });
const repeat = Number(args.repeat);
const chains = args.chains.split(',').filter(Boolean).map(Number);
const commands = Number(args.commands);
const mininet = new MininetSubstrate({ switch: args.switch });
registerSubstrate('mininet-bench', () => mininet);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => x.toFixed(0);
const ratio = (a: number, b: number) => `${(a / b).toFixed(1)}×`;

interface Timing {
  up: number;
  down: number;
}

async function time(t: Topology, substrate: string, stateDir: string): Promise<Timing> {
  // Workloads (VMs boot for seconds) are not the substrate's work; translators are.
  const t0 = performance.now();
  const lab = await up(t, { stateDir, substrate, workloads: false });
  const upMs = performance.now() - t0;
  const t1 = performance.now();
  await lab.down();
  return { up: upMs, down: performance.now() - t1 };
}

function table(head: string[], rows: string[][]): string {
  return [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

function spread(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const f = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(1));
  return `${f(s[0]!)} / ${f(median(s))} / ${f(s.at(-1)!)}`;
}

async function perCommand(stateDir: string): Promise<string[][]> {
  const t = parseTopology(chainTopologyYaml(2, 'bench-cmd'));
  const rows: string[][] = [];
  const sample = async (what: string, f: () => Promise<unknown>) => {
    for (let i = 0; i < 10; i++) await f(); // warm-up
    const xs: number[] = [];
    for (let i = 0; i < commands; i++) {
      const t0 = performance.now();
      await f();
      xs.push(performance.now() - t0);
    }
    rows.push([what, spread(xs)]);
  };
  {
    await using lab = await up(t, { stateDir, substrate: 'mininet-bench' });
    const helper = mininet.helper!;
    await sample('Mininet helper, `info` (protocol round trip only)', () => helper.request('info'));
    await sample('Mininet helper, `cmd` `true` in r1 (mnexec in the sandbox)', () => helper.request('cmd', { node: 'r1', argv: ['true'] }));
    await sample('Mininet node Shell.exec `true` in r1 (nsenter --net from the host)', () => lab.shell('r1').exec(['true']));
  }
  {
    await using lab = await up(t, { stateDir, substrate: 'netns' });
    await sample('netns node Shell.exec `true` in r1 (nsenter --net, reference)', () => lab.shell('r1').exec(['true']));
  }
  {
    await using lab = await up(t, { stateDir, substrate: 'docker' });
    await sample('docker node Shell.exec `true` in r1 (nsenter --net=/proc/PID/ns/net)', () => lab.shell('r1').exec(['true']));
    await sample('docker node imageShell.exec `true` in r1 (docker exec)', () => lab.imageShell('r1').exec(['true']));
  }
  return rows;
}

/** The chain over 1, 2, 4… rig hosts (interleaved) beside netns on this machine; per-command cost over SSH. */
async function acrossHosts(stateDir: string): Promise<void> {
  const counts = args.hosts.split(',').filter(Boolean).map(Number);
  const n = Number(args['hosts-chain']);
  console.log(`\n### A chain of ${n} routers across SSH hosts\n`);
  if (!existsSync(SSHD)) return void console.log(`skipped: ${SSHD} is missing (bash ci/setup.sh installs openssh-server)`);
  const rig = await startSshRig({ hosts: Math.max(...counts, 3) }); // the switch lab uses three
  process.env.WARPLAB_SSH_CONFIG = rig.sshConfig;
  try {
    const machines = rig.hosts.map((h, i) => ({ name: `m${i + 1}`, address: h.address }));
    const local = parseTopology(chainTopologyYaml(n, `hchain${n}`));
    const spread_ = counts.map((k) => parseTopology(chainTopologyYaml(n, `hchain${n}-${k}`, machines.slice(0, k))));
    const runs: Timing[][] = counts.map(() => []);
    const netns: Timing[] = [];
    for (let r = 0; r < repeat; r++) {
      netns.push(await time(local, 'netns', stateDir));
      for (const [i, t] of spread_.entries()) runs[i]!.push(await time(t, 'ssh', stateDir));
    }
    const med = (xs: Timing[]) => [median(xs.map((x) => x.up)), median(xs.map((x) => x.down))] as const;
    const [nu, nd] = med(netns);
    const [u1, d1] = med(runs[0]!);
    const rows = counts.map((k, i) => {
      const [u, d] = med(runs[i]!);
      return [`ssh, ${k} host${k > 1 ? 's' : ''}`, String(k - 1), ms(u), ms(d), `${ratio(u, u1)} / ${ratio(d, d1)}`, `${ratio(u, nu)} / ${ratio(d, nd)}`];
    });
    rows.push(['netns, this machine (reference)', '0', ms(nu), ms(nd), '', '1.0× / 1.0×']);
    console.log(`median of ${repeat} runs, milliseconds; each host gets a contiguous run of the chain, so k hosts have k − 1 links that are VXLAN tunnels\n`);
    console.log(table(['where', 'tunnels', 'up', 'down', `/ ${counts[0]} host (up / down)`, '/ netns (up / down)'], rows));
    {
      await using lab = await up(parseTopology(chainTopologyYaml(2, 'hcmd', machines.slice(0, 1))), { stateDir, workloads: false });
      const xs: number[] = [];
      for (let i = 0; i < commands + 10; i++) {
        const t0 = performance.now();
        await lab.shell('r1').exec(['true']);
        if (i >= 10) xs.push(performance.now() - t0);
      }
      console.log(`\nOne command in a node on an SSH host (Shell.exec \`true\`: a channel, nsenter --net; through the rig's ProxyCommand): min / median / max of ${commands}: ${spread(xs)} ms`);
    }
    // One translator switch, orchestrator → agent → answer: through a unix socket here, or an
    // SSH-forwarded one on another host. Alternating between two WAN addresses.
    const xlate = await loadTopologyFile(join(packageRoot, 'orchestrator', 'test', 'fixtures', 'hosts', 'translator-3hosts.yaml'));
    const rows2: string[][] = [];
    for (const [label, t] of [
      ['netns, this machine', { ...xlate, hosts: undefined, placement: undefined, nodes: xlate.nodes.map(({ host: _h, ...n }) => n) }],
      ['ssh, router on another host', xlate],
    ] as const) {
      await using lab = await up(t as Topology, { stateDir, workloads: false });
      const rtt: number[] = [];
      const kernel: number[] = [];
      for (let i = 0; i < commands + 10; i++) {
        const r = await switchPage(lab, 'r', '10.0.1.2', i % 2 ? '150.1.0.2/32' : '150.2.0.2/32');
        if (i >= 10) (rtt.push(r.roundTripMs), kernel.push(r.kernelUs / 1000));
      }
      rows2.push([label, spread(rtt), spread(kernel)]);
    }
    console.log(`\nOne translator switch (\`warplab switch\`'s request), min / median / max of ${commands}, milliseconds\n`);
    console.log(table(['where the router runs', 'round trip from the orchestrator', "kernel update (the agent's own figure)"], rows2));
  } finally {
    closeSshConnections();
    const left = await rig.close();
    if (left.length) console.log(`warning: the SSH rig left ${left.join(', ')}`);
  }
}

/** The shipped topologies and the chains on netns, Mininet and docker; plain Mininet; per-command cost. */
async function localSubstrates(stateDir: string): Promise<void> {
  console.log(`warplab up/down benchmark: median of ${repeat} runs, milliseconds; Mininet substrate with ${mininet.switchKind} lans; docker substrate on the lab's own engine (its start and stop are in up and down); plain Mininet in a private sandbox\n`);
  const topoDir = join(packageRoot, 'topologies');
  const cases: { label: string; t: Topology; check?: [string, string] }[] = [];
  for (const f of readdirSync(topoDir).filter((x) => x.endsWith('.yaml')).sort()) {
    const t = await loadTopologyFile(join(topoDir, f));
    cases.push({ label: f.replace(/\.yaml$/, ''), t: { ...t, name: `${t.name.slice(0, 12)}-bn` } });
  }
  for (const n of chains) {
    const t = parseTopology(chainTopologyYaml(n, `bench${n}`));
    cases.push({ label: `chain of ${n} routers`, t, check: ['h1', t.nodes.at(-1)!.interfaces[0]!.ipv4[0]!.split('/')[0]!] });
  }

  const plain = await plainMininet(cases.map((c) => ({ t: c.t, ...(c.check ? { check: c.check } : {}) })), repeat, mininet.python);
  const rows: string[][] = [];
  for (const [i, c] of cases.entries()) {
    const runs: Record<'netns' | 'mininet' | 'docker', Timing[]> = { netns: [], mininet: [], docker: [] };
    // Interleaved, so that the machine's mood weighs on all alike.
    for (let k = 0; k < repeat; k++) {
      runs.netns.push(await time(c.t, 'netns', stateDir));
      runs.mininet.push(await time(c.t, 'mininet-bench', stateDir));
      runs.docker.push(await time(c.t, 'docker', stateDir));
    }
    const med = (xs: Timing[]) => [median(xs.map((r) => r.up)), median(xs.map((r) => r.down))] as const;
    const [[nu, nd], [mu, md], [du, dd]] = [med(runs.netns), med(runs.mininet), med(runs.docker)];
    const [pu, pd] = [median(plain[i]!.upMs), median(plain[i]!.downMs)];
    if (plain[i]!.reachable === false) console.log(`warning: plain Mininet's ${c.label} did not pass its ping check`);
    rows.push([c.label, String(c.t.nodes.length), ms(nu), ms(nd), ms(mu), ms(md), ms(du), ms(dd), ms(pu), ms(pd), `${ratio(mu, nu)} / ${ratio(md, nd)}`, `${ratio(du, nu)} / ${ratio(dd, nd)}`, `${ratio(mu, pu)} / ${ratio(md, pd)}`]);
    process.stderr.write(`${c.label} done\n`);
  }
  console.log(
    table(
      ['topology', 'nodes', 'netns up', 'netns down', 'mininet substrate up', 'mininet substrate down', 'docker up', 'docker down', 'plain Mininet up', 'plain Mininet down', 'mininet / netns (up / down)', 'docker / netns (up / down)', 'mininet / plain Mininet (up / down)'],
      rows,
    ),
  );
  console.log(`\nOne command in a node: min / median / max of ${commands}, milliseconds\n`);
  console.log(table(['path', 'min / median / max'], await perCommand(stateDir)));
}

const stateDir = mkdtempSync(join(tmpdir(), 'warplab-bench-'));
try {
  if (args.only !== 'hosts') await localSubstrates(stateDir);
  if (args.only !== 'local') await acrossHosts(stateDir);
} finally {
  rmSync(stateDir, { recursive: true, force: true });
}
