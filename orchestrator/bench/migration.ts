// Benchmark: live migration on the ICOIN topology (network paging), VM and container, with
// the workload's sender at 10 ms (the paper's) and 1 ms, and the same QEMU migration with
// no translator in the path (hypervisors and client on one LAN), all in one run. Per
// migration: largest gap of each stream, the driver's figures, switching time (announcement
// → first packet on the new path). Prints Markdown; the papers' figures only as references.
// With `hosts` in --parts: the same VM migration on the ICOIN lab spread over three SSH rig
// hosts (test/ssh-rig.ts), interleaved with the one-machine lab.
//   sudo npm run bench:migration [-- --repeat 10 --kinds vm,container --parts kinds,compare,gateway-mac,hosts]
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { packageRoot } from '../paths.js';
import { summarize } from '../probe/stats.js';
import type { WindowFigures } from '../probe/analysis.js';
import { didNotResume } from '../report/format.js';
import { paperReferences } from '../report/references.js';
import { loadTopologyFile, parseTopology } from '../topology/load.js';
import type { Topology, WorkloadKind } from '../topology/model.js';
import { compared, difference, measured, measuredCount, median, num, type Measured } from './compare.js';
import { gap, interleaved, Series, type Sample } from './series.js';
import { benchArgs } from './args.js';
import { SSHD, startSshRig } from '../test/ssh-rig.js';
import { closeSshConnections } from '../substrate/ssh/connections.js';
import { existsSync } from 'node:fs';

const args = benchArgs({ repeat: '10', kinds: 'vm,container', parts: 'kinds,compare,gateway-mac' });
const repeat = Number(args.repeat);
const kinds = args.kinds.split(',') as WorkloadKind[];
/** What to run: rows per kind and interval, the untranslated comparison, the gateway-MAC case. */
const parts = args.parts.split(',');
const GATEWAY_MAC_WAIT_MS = 60_000;

/**
 * The same migration with no translator in the path: both hypervisors on one DC LAN, and
 * the same routed path to the client as ICOIN's ADC (gateway, core, edge, C) with plain
 * routers, so the comparison isolates the translators and the paging.
 */
const UNTRANSLATED = `
name: plain-bench
routing: auto
nodes:
  dc: {kind: lan, subnet: 172.16.0.0/16}
  mgmt: {kind: lan, subnet: 192.0.2.0/24}
  hv1: {kind: hypervisor, interfaces: {eth0: {ipv4: 172.16.0.11/16}, eth1: {ipv4: 192.0.2.11/24, announce: false}}}
  hv2: {kind: hypervisor, interfaces: {eth0: {ipv4: 172.16.0.12/16}, eth1: {ipv4: 192.0.2.12/24, announce: false}}}
  gw: {kind: router, interfaces: {eth0: {ipv4: 10.255.2.1/30}, eth1: {ipv4: 172.16.0.1/16, mac: "02:00:ac:10:00:01"}}}
  core: {kind: router, interfaces: {eth0: {ipv4: 10.255.2.2/30}, eth1: {ipv4: 10.255.3.2/30}}}
  edge: {kind: router, interfaces: {eth0: {ipv4: 10.255.3.1/30}, eth1: {ipv4: 10.254.3.1/30}}}
  C: {kind: router, interfaces: {eth0: {ipv4: 10.254.3.2/30}, eth1: {ipv4: 10.3.0.1/24}}}
  user: {kind: lan, subnet: 10.3.0.0/24}
  U: {kind: host, interfaces: {eth0: {ipv4: 10.3.0.10/24}}}
links: [hv1:eth0 -- dc, hv2:eth0 -- dc, gw:eth1 -- dc, hv1:eth1 -- mgmt, hv2:eth1 -- mgmt, gw:eth0 -- core:eth0, core:eth1 -- edge:eth0, edge:eth1 -- C:eth0, C:eth1 -- user, U:eth0 -- user]
workloads:
  vm-a: {kind: vm, on: hv1, ipv4: 172.16.10.2/16, gateway: 172.16.0.1, app: {peer: 10.3.0.10}}
migration: {network: mgmt}
`;

/** Mean, σ, min, median, max of what was measured, and how many of the migrations that is. */
function row(name: string, xs: (number | null)[], ref?: { mean: number; sd: number }): string {
  const ys = measured(xs);
  const s = summarize(ys.values);
  const cells = s ? [num(s.mean), num(s.sd), num(s.min), num(s.median), num(s.max)] : ['–', '–', '–', '–', '–'];
  return `| ${name} | ${[...cells, measuredCount(ys)].join(' | ')} | ${ref ? `${ref.mean} (σ ${ref.sd})` : ''} |`;
}
const ref = (metric: 'switchingMs' | 'downtimeMs') => paperReferences.find((r) => r.metric === metric)!;

/** Prints the table; returns the largest gap and its part beyond stop → resume, per migration. */
function print(title: string, samples: Sample[]): { gap: Measured; beyond: Measured } {
  const fig = (k: string) => samples.map((s) => Number(s.result.figures[k] ?? NaN));
  const own = samples.map((s) => gap(s.own));
  console.log(`\n### ${title}\n`);
  console.log('| metric (ms) | mean | σ | min | median | max | n | paper, reference only |');
  console.log('|---|---|---|---|---|---|---|---|');
  console.log(row('largest gap, workload → client', own, ref('downtimeMs')));
  console.log(row('largest gap, client → workload → client', samples.map((s) => gap(s.echo))));
  console.log(row('switching time (announcement → first packet on the new path)', samples.map((s) => s.result.switching.switchingMs), ref('switchingMs')));
  console.log(row('resume → first packet from the workload at the client', samples.map((s) => (s.own?.resumed ? s.own.resumeToFirstPacketMs : null))));
  console.log(row('announcement → translators switched', samples.map((s) => s.result.switching.announceToSwitchedMs)));
  // QEMU's STOP/RESUME events bound the VM's pause; a container's figure also spans the dump.
  const beyond = own.map((g, i) => (g === null || samples[i]!.result.kind !== 'vm' ? null : g - Number(samples[i]!.result.figures.stopToResumeMs)));
  if (samples[0]?.result.kind === 'vm') {
    console.log(row('largest gap beyond stop → resume (what the network adds)', beyond));
    console.log(row("QEMU's downtime", fig('downtimeMs')));
    console.log(row("QEMU's total time", fig('totalTimeMs')));
    console.log(row('STOP → RESUME (QMP events)', fig('stopToResumeMs')));
  } else {
    console.log(row('CRIU checkpoint', fig('checkpointMs')));
    console.log(row('restore', fig('restoreMs')));
    console.log(row('stop → resume', fig('stopToResumeMs')));
  }
  console.log(row('whole migration as warplab saw it', samples.map((s) => s.result.elapsedMs)));
  const accel = samples[0]?.result.figures.accel;
  if (accel) console.log(`\naccelerator: ${accel}`);
  for (const [stream, w] of [['workload → client', 'own'], ['client → workload → client', 'echo']] as const) {
    const gone = samples.filter((s) => s[w] && !s[w].resumed).length;
    if (gone) console.log(`\n**${stream} did not resume after ${gone} of ${samples.length} migrations** (no gap measured for them)`);
  }
  return { gap: measured(own), beyond: measured(beyond) };
}

const icoin = await loadTopologyFile(join(packageRoot, 'topologies', 'icoin2011-paging.yaml'));
const variant = (kind: WorkloadKind, intervalMs: number): Topology => ({
  ...icoin,
  name: `bench-${kind === 'vm' ? 'vm' : 'ct'}-${intervalMs}`,
  workloads: icoin.workloads.map((w) => ({ ...w, kind, app: { ...w.app, intervalMs } })),
});

console.log(`## Live migration on the ICOIN topology, ${repeat} migrations per row (PDC ⇄ ADC alternately)`);
const paging = (kind: WorkloadKind, interval: number) => `${kind}, ${interval} ms sender, network paging`;
if (parts.includes('kinds')) {
  for (const kind of kinds) {
    const [ten, one] = await interleaved(repeat, [new Series(variant(kind, 10), ['pdc-hv', 'adc-hv'], paging(kind, 10)), new Series(variant(kind, 1), ['pdc-hv', 'adc-hv'], paging(kind, 1))]);
    print(paging(kind, 10), ten!);
    print(paging(kind, 1), one!);
  }
}

if (kinds.includes('vm') && parts.includes('compare')) {
  // The same QEMU migration with no translator in the path, interleaved with the paged one.
  const plainTopology = parseTopology(UNTRANSLATED, 'untranslated.yaml');
  const t = { ...plainTopology, workloads: plainTopology.workloads.map((w) => ({ ...w, app: { ...w.app, intervalMs: 1 } })) };
  const plainLabel = 'vm, 1 ms sender, no translator in the path (same routed path, one DC LAN)';
  const [paged, plain] = await interleaved(repeat, [new Series(variant('vm', 1), ['pdc-hv', 'adc-hv'], paging('vm', 1)), new Series(t, ['hv1', 'hv2'], plainLabel)]);
  const p = print(`${paging('vm', 1)}, interleaved with the next`, paged!);
  const base = print(`${plainLabel}, interleaved with the previous`, plain!);
  console.log(`\nnetwork-visible gap of a VM migration, 1 ms sender, medians of interleaved runs (target: at most +5 ms):`);
  console.log(`  largest gap: ${median(p.gap)} with network paging vs ${median(base.gap)} with no translator: ${compared(p.gap, base.gap, difference)}`);
  console.log(`  beyond the VM's own stop → resume: ${median(p.beyond)} vs ${median(base.beyond)}: ${compared(p.beyond, base.beyond, difference)}`);
}

if (kinds.includes('vm') && parts.includes('gateway-mac')) {
  // ICOIN §V-G: both DCs share the gateway's MAC. With a different one at ADC the moved VM
  // keeps sending to PDC's gateway MAC until its ARP entry ages out (Linux: 15-45 s + 5 s).
  const t = variant('vm', 10);
  const other = { ...t, name: 'bench-gw-mac', nodes: t.nodes.map((n) => (n.name === 'R2' ? { ...n, interfaces: n.interfaces.map((i) => (i.name === 'eth1' ? { ...i, mac: '02:00:ac:10:00:02' } : i)) } : n)) };
  const s = new Series(other, ['pdc-hv', 'adc-hv'], 'vm, 10 ms sender, gateway MAC differs at ADC');
  await s.start();
  await s.migrate(1);
  await sleep(GATEWAY_MAC_WAIT_MS);
  const [one] = await s.finish();
  console.log(`\n### gateway MAC differs between the DCs (one migration PDC → ADC, watched for ${GATEWAY_MAC_WAIT_MS / 1000} s)\n`);
  const text = (w: WindowFigures | null | undefined) => (!w ? '–' : w.resumed ? `${num(w.downtimeMs)} ms` : didNotResume(w.downtimeMs));
  console.log(`largest gap, workload → client: ${text(one?.own)}; client → workload → client: ${text(one?.echo)} (identical MACs: see the first table)`);
}

if (kinds.includes('vm') && parts.includes('hosts')) {
  // The same move with PDC, ADC and the client site on three SSH hosts: QEMU's stream crosses
  // a VXLAN tunnel, the watcher on adc reaches R3 on client through a relay socket over SSH.
  if (!existsSync(SSHD)) console.log(`\n### across three SSH hosts\n\nskipped: ${SSHD} is missing (bash ci/setup.sh installs openssh-server)`);
  else {
    const rig = await startSshRig({ hosts: 3 });
    process.env.WARPLAB_SSH_CONFIG = rig.sshConfig;
    try {
      const three = await loadTopologyFile(join(packageRoot, 'topologies', 'icoin2011-paging-3hosts.yaml'));
      // The rig's configuration names hosts by address, not by the file's `client` alias.
      const t: Topology = { ...three, name: 'bench-vm-3hosts', hosts: three.hosts!.map(({ sshConfig: _alias, ...h }) => h), workloads: three.workloads.map((w) => ({ ...w, app: { ...w.app, intervalMs: 10 } })) };
      const acrossLabel = 'vm, 10 ms sender, network paging, PDC / ADC / client on three SSH hosts';
      const [here, across] = await interleaved(repeat, [new Series(variant('vm', 10), ['pdc-hv', 'adc-hv'], paging('vm', 10)), new Series(t, ['pdc-hv', 'adc-hv'], acrossLabel)]);
      const h = print(`${paging('vm', 10)}, one machine, interleaved with the next`, here!);
      const a = print(`${acrossLabel}, interleaved with the previous`, across!);
      const switched = (xs: Sample[]) => measured(xs.map((s) => s.result.switching.announceToSwitchedMs));
      console.log(`\nacross three hosts vs one machine, medians of interleaved runs (the rig's hosts share this machine's cores and kernel: this is warplab's own cost, not a WAN):`);
      console.log(`  largest gap: ${median(a.gap)} vs ${median(h.gap)}: ${compared(a.gap, h.gap, difference)}`);
      console.log(`  announcement → translators switched: ${median(switched(across!))} vs ${median(switched(here!))}: ${compared(switched(across!), switched(here!), difference)}`);
    } finally {
      closeSshConnections();
      const left = await rig.close();
      if (left.length) console.log(`\nthe rig left: ${left.join(', ')}`);
    }
  }
}
