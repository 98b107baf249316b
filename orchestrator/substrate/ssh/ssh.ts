// Labs across machines: on each of the topology's hosts, over SSH, nodes are network
// namespaces built with the netns substrate's own plans; what crosses hosts is VXLAN over the
// underlay (plan.ts). Every command runs through the host's SshShell, so nothing here reads or
// writes the orchestrator's /proc, /run/netns or files on a host's behalf.
import { SubstrateError } from '../../errors.js';
import { markOf, type LabState, type OwnedObject } from '../../lab/state.js';
import { hasCommand, type BackgroundProcess, type Shell } from '../../shell/shell.js';
import { SshShell } from '../../shell/ssh.js';
import { nodeByName, type HostSpec, type Topology } from '../../topology/model.js';
import type { BuildContext, NodeNeed, PlanStep, Substrate } from '../substrate.js';
import { configureCommands, configureNodes, interruptCheck } from '../netns/configure.js';
import { linkParamsMissing } from '../netns/linkparams.js';
import { linksBatch, nsName } from '../netns/plan.js';
import { removeNamespaces } from '../netns/remove.js';
import { connectionTo, hostTarget } from './connections.js';
import { hostLabDir, SshMachine } from './machine.js';
import type { NodeMachine } from '../../lab/machine.js';
import type { ClockOffset } from '../../probe/clock.js';
import { hostClockOffset } from './clock.js';
import { MAX_VNI, sshPlan } from './plan.js';

/**
 * VNIs from a base drawn from the lab's random id: two labs on the same hosts get disjoint
 * ranges unless their bases fall within a lab's size of each other (under 1e-5 for two labs
 * of 100 tunnels); then the kernel refuses the second's tunnel and `up` says so.
 */
export function vniBaseOf(labId: string): number {
  return 0x1000 + (parseInt(labId, 16) % (MAX_VNI - 0x1000 - 0x10000));
}

function hostOf(t: Topology, node: string): HostSpec {
  const name = t.nodes.find((n) => n.name === node)?.host;
  const h = t.hosts?.find((x) => x.name === name);
  if (!h) throw new SubstrateError(`${node} is on no host of ${t.name}`);
  return h;
}

/** $1 the directory, $2 the mark, $3 the lab's status. Exit 0 removed, 3 absent, 4 not the lab's. */
const REMOVE_DIR = [
  '[ -d "$1" ] || exit 3',
  'if [ "$(cat "$1/.mark" 2>/dev/null)" != "$2" ]; then [ "$3" = creating ] && rmdir -- "$1" 2>/dev/null && exit 0; exit 4; fi',
  'awk -v d="$1/" \'index($5, d) == 1 { print $5 }\' /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m"; done',
  'rm -rf -- "$1"',
].join('\n');

/** One per lab and host within a process, so that a file is placed once. */
const machines: Record<string, SshMachine> = {};

const enter = (ns: string) => ['nsenter', `--net=/run/netns/${ns}`, '--'];

export class SshSubstrate implements Substrate {
  readonly name = 'ssh';
  readonly spansHosts = true;

  /** Commands in a host's own namespaces, with the connection's route in errors. */
  private hostShell(h: HostSpec): Shell {
    return new SshShell(connectionTo(h), `host ${h.name}`);
  }

  async missing(t: Topology, needs: readonly NodeNeed[] = []): Promise<string[]> {
    if (!t.hosts) return [`the ssh substrate places nodes on the topology's hosts, and ${t.name} declares none: add hosts (README, "Hosts and placement"), or choose another substrate`];
    const perHost = await Promise.all(
      t.hosts.map(async (h): Promise<string[]> => {
        const at = `${h.name} (${hostTarget(h).route})`;
        try {
          const sh = this.hostShell(h);
          const uid = (await sh.exec(['id', '-u'])).stdout.trim();
          const out = uid === '0' ? [] : [`${at}: logs in as uid ${uid}; nodes need root there (network namespaces, VXLAN): log in as root`];
          // bash answers the clock ping-pong; awk finds mounts under the lab's directory at `down`
          for (const [tool, pkg] of [['ip', 'iproute2'], ['bridge', 'iproute2'], ['nsenter', 'util-linux'], ['bash', 'bash'], ['awk', 'mawk']] as const) {
            if (!(await hasCommand(sh, tool))) out.push(`${at}: ${tool} is missing: apt-get install ${pkg}`);
          }
          // What the lab's extensions need on the nodes placed here (QEMU on a hypervisor), once per command.
          const here = new Map(needs.filter((n) => nodeByName(t, n.node)?.host === h.name).map((n) => [n.command, n]));
          for (const n of here.values()) {
            if (!(await hasCommand(sh, n.command))) out.push(`${at}: ${n.command} is missing (for ${n.node}): ${n.install}`);
          }
          return [...out, ...(out.length ? [] : (await linkParamsMissing(t, sh)).map((m) => `${at}: ${m}`))];
        } catch (e) {
          return [`${at}: ${(e as Error).message}`];
        }
      }),
    );
    return perHost.flat();
  }

  async create(t: Topology, ctx: BuildContext): Promise<void> {
    const check = interruptCheck(ctx);
    const plan = sshPlan(t, vniBaseOf(ctx.state.id), ctx.state.mark);
    const hosts = plan.hosts.map((hp) => ({ hp, sh: this.hostShell(hp.host), names: hp.nodes.map((n) => nsName(t.name, n)) }));
    const onEach = async (stage: string, f: (h: (typeof hosts)[number]) => Promise<void>) => {
      let done = 0;
      ctx.progress({ stage, done, total: hosts.length });
      const results = await Promise.allSettled(hosts.map(async (h) => (await f(h), ctx.progress({ stage, done: ++done, total: hosts.length }))));
      const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`  ${hosts[i]!.hp.host.name}: ${(r.reason as Error).message}`] : []));
      if (failed.length) throw new SubstrateError(`${stage} failed on ${failed.length} host${failed.length > 1 ? 's' : ''}:\n${failed.join('\n')}`);
      check();
    };

    await onEach('checking hosts', async ({ sh, names }) => {
      const existing = new Set((await sh.exec(['ip', 'netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0]));
      const clash = names.filter((n) => existing.has(n));
      if (clash.length) throw new SubstrateError(`namespaces already exist and were not made by this lab: ${clash.join(', ')}; nothing was changed`);
    });

    // Recorded before anything is made: `down` then works from the state alone, after a crash too.
    const dir = hostLabDir(t.name);
    ctx.record(hosts.map(({ hp }): OwnedObject => ({ kind: 'dir', name: dir, node: '', host: hp.host.name })));
    ctx.record(hosts.flatMap(({ hp, names }) => names.map((name, i): OwnedObject => ({ kind: 'netns', name, node: hp.nodes[i]!, host: hp.host.name }))));
    await onEach('namespaces', async ({ sh, names }) => {
      await sh.exec(['sh', '-ec', 'mkdir -p -m700 "${1%/*}"; mkdir -m700 -- "$1"; echo "$2" > "$1/.mark"', 'sh', dir, ctx.state.mark]);
      await sh.exec(['ip', '-batch', '-'], { input: names.map((n) => `netns add ${n}\n`).join('') });
    });

    ctx.record(hosts.flatMap(({ hp }) => hp.wires.flatMap((w) => [w.a, w.b]).map((e): OwnedObject => ({ kind: 'link', name: e.ifname, node: e.node, netns: e.ns, host: hp.host.name }))));
    ctx.record(hosts.flatMap(({ hp }) => hp.tunnels.map((e): OwnedObject => ({ kind: 'tunnel', name: e.ifname, node: e.node, netns: e.ns, host: hp.host.name, vni: e.vni }))));
    await onEach('links and tunnels', async ({ hp, sh }) => {
      if (hp.wires.length) await sh.exec(['ip', '-batch', '-'], { input: linksBatch(hp.wires) });
      if (hp.commands.length) await sh.exec(['sh', '-ec', hp.commands.join('\n')]);
    });

    await onEach('configure', ({ hp, sh }) => configureNodes(sh, { ...t, nodes: t.nodes.filter((n) => hp.nodes.includes(n.name)) }, hp.wires, (node) => enter(nsName(t.name, node)), ctx, hp.tunnels));
  }

  plan(t: Topology, labId: string): PlanStep[] {
    const mark = markOf(t.name, labId);
    const plan = sshPlan(t, vniBaseOf(labId), mark);
    return plan.hosts.flatMap((hp) => {
      const where = `host ${hp.host.name}`;
      const names = hp.nodes.map((n) => nsName(t.name, n));
      return [
        { where, what: `lab directory and namespaces (${hp.nodes.join(', ')})`, commands: [`mkdir -m700 ${hostLabDir(t.name)}`, ...names.map((n) => `ip netns add ${n}`)] },
        { where, what: 'veths and VXLAN tunnels', commands: [...(hp.wires.length ? linksBatch(hp.wires).trimEnd().split('\n').map((l) => `ip ${l}`) : []), ...hp.commands] },
        ...t.nodes.filter((n) => hp.nodes.includes(n.name)).map((n) => ({ where: `${where}, netns ${nsName(t.name, n.name)}`, what: `configure ${n.name}`, commands: configureCommands(n, hp.wires, mark, hp.tunnels) })),
      ];
    });
  }

  shell(state: LabState, node: string, onSpawn?: (p: BackgroundProcess) => void): Shell {
    const host = hostOf(state.topology, node);
    const ns = nsName(state.name, node);
    return new SshShell(connectionTo(host), `${node} (netns ${ns} on ${host.name})`, enter(ns), { WARPLAB_LAB: state.mark }, onSpawn);
  }

  async clocks(state: LabState): Promise<ClockOffset[]> {
    return Promise.all((state.topology.hosts ?? []).map((h) => hostClockOffset(connectionTo(h))));
  }

  machine(state: LabState, node: string): NodeMachine {
    const host = hostOf(state.topology, node);
    return (machines[`${state.mark} ${host.name}`] ??= new SshMachine(() => connectionTo(host), hostLabDir(state.name)));
  }

  /**
   * Each host from the state alone: tunnel devices a crash left in the host namespace, then
   * the namespaces with what runs in them. A host that does not answer keeps its records (the
   * lab directory stays), so a later `down` finishes the job.
   */
  async destroy(state: LabState): Promise<string[]> {
    const removed: string[] = [];
    const unreachable: string[] = [];
    await Promise.all(
      (state.topology.hosts ?? []).map(async (h) => {
        const mine = state.objects.filter((o) => o.host === h.name);
        if (!mine.length) return;
        const sh = this.hostShell(h);
        try {
          await sh.exec(['true']);
        } catch (e) {
          unreachable.push(`${h.name}: ${(e as Error).message}`);
          return;
        }
        for (const o of mine.filter((x) => x.kind === 'tunnel')) {
          const device = `wlvx${o.vni}`;
          const r = await sh.exec(['ip', '-d', '-o', 'link', 'show', 'dev', device], { check: false });
          // Unmarked, it is ours only if `up` died between making and marking it: its VNI says so.
          const ours = r.stdout.includes(`alias ${state.mark}`) || (state.status === 'creating' && !r.stdout.includes(' alias ') && r.stdout.includes(`vxlan id ${o.vni} `));
          if (r.exitCode !== 0 || !ours) continue;
          await sh.exec(['ip', 'link', 'del', 'dev', device]);
          removed.push(`tunnel ${device} on ${h.name}`);
        }
        const names = mine.filter((o) => o.kind === 'netns').map((o) => o.name);
        removed.push(...(await removeNamespaces(sh, names, state)).removed.map((x) => `${x} on ${h.name}`));
        // The lab's directory there, by its mark (empty and unmarked only if `up` died making
        // it), after what is mounted under it (an agent's bpffs).
        for (const o of mine.filter((x) => x.kind === 'dir')) {
          const r = await sh.exec(['sh', '-c', REMOVE_DIR, 'sh', o.name, state.mark, state.status], { check: false });
          if (r.exitCode === 0) removed.push(`directory ${o.name} on ${h.name}`);
          else if (r.exitCode === 4) process.stderr.write(`warplab: leaving ${o.name} on ${h.name}: it is not marked ${state.mark}\n`);
          else if (r.exitCode !== 3) throw new SubstrateError(`could not remove ${o.name} on ${h.name}: ${r.stderr.trim()}`);
        }
      }),
    );
    if (unreachable.length) {
      throw new SubstrateError(`could not reach ${unreachable.length > 1 ? 'these hosts' : 'a host'}; what the lab made there stays recorded: run \`warplab down ${state.name}\` again once it answers.\n  ${unreachable.join('\n  ')}${removed.length ? `\nremoved meanwhile: ${removed.join(', ')}` : ''}`);
    }
    return removed;
  }
}
