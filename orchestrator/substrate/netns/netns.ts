// The embedded default: one network namespace per node, veth pairs for links, a bridge
// namespace per lan. No daemon; everything is named wl-LAB-NODE and marked with the lab's mark.
import { SubstrateError } from '../../errors.js';
import { processId, reaped, type ProcessId } from '../../lab/processes.js';
import { markOf, type LabState } from '../../lab/state.js';
import { LocalShell } from '../../shell/local.js';
import { hasCommand, type BackgroundProcess, type Shell } from '../../shell/shell.js';
import type { Topology } from '../../topology/model.js';
import type { BuildContext, PlanStep, Substrate } from '../substrate.js';
import { configureCommands, configureNodes, interruptCheck } from './configure.js';
import { linksBatch, namespacesBatch, nsName, wiresOf } from './plan.js';
import { linkParamsMissing } from './linkparams.js';
import { removeNamespaces } from './remove.js';

export class NetnsSubstrate implements Substrate {
  readonly name = 'netns';

  /** `host` runs the root-namespace commands; tests pass a recording fake. */
  constructor(private readonly host: Shell = new LocalShell('host')) {}

  async missing(t: Topology): Promise<string[]> {
    const out: string[] = [];
    if (process.getuid?.() !== 0) out.push('the netns substrate needs root (network namespaces and veths): run as root, or with CAP_NET_ADMIN and CAP_SYS_ADMIN');
    for (const [tool, pkg] of [['ip', 'iproute2'], ['nsenter', 'util-linux']] as const) {
      if (!(await hasCommand(this.host, tool))) out.push(`${tool} is missing: apt-get install ${pkg} (or run bash ci/setup.sh)`);
    }
    if (!out.length) out.push(...(await linkParamsMissing(t, this.host)));
    return out;
  }

  private enter(ns: string): string[] {
    return ['nsenter', `--net=/run/netns/${ns}`, '--'];
  }

  async create(t: Topology, ctx: BuildContext): Promise<void> {
    // Commands are never killed half-way (a killed `ip netns add` leaves a dead namespace
    // file); an interrupt is honoured between steps.
    const check = interruptCheck(ctx);
    const wanted = t.nodes.map((n) => nsName(t.name, n.name));
    const existing = new Set((await this.host.exec(['ip', 'netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0]));
    const clash = wanted.filter((n) => existing.has(n));
    if (clash.length) throw new SubstrateError(`namespaces already exist and were not made by this lab: ${clash.join(', ')}; nothing was changed`);

    ctx.record(t.nodes.map((n) => ({ kind: 'netns' as const, name: nsName(t.name, n.name), node: n.name })));
    ctx.progress({ stage: 'namespaces', done: 0, total: t.nodes.length });
    await this.host.exec(['ip', '-batch', '-'], { input: namespacesBatch(t) });
    ctx.progress({ stage: 'namespaces', done: t.nodes.length, total: t.nodes.length });
    check();

    const wires = wiresOf(t);
    ctx.record(wires.flatMap((w) => [w.a, w.b]).map((e) => ({ kind: 'link' as const, name: e.ifname, node: e.node, netns: e.ns })));
    ctx.progress({ stage: 'links', done: 0, total: wires.length });
    if (wires.length) await this.host.exec(['ip', '-batch', '-'], { input: linksBatch(wires) });
    ctx.progress({ stage: 'links', done: wires.length, total: wires.length });
    check();

    await configureNodes(this.host, t, wires, (node) => this.enter(nsName(t.name, node)), ctx);
  }

  plan(t: Topology, labId: string): PlanStep[] {
    const wires = wiresOf(t);
    const mark = markOf(t.name, labId);
    return [
      { where: 'this machine', what: 'namespaces', commands: namespacesBatch(t).trimEnd().split('\n').map((l) => `ip ${l}`) },
      { where: 'this machine', what: 'veths, both ends made in their namespaces', commands: wires.length ? linksBatch(wires).trimEnd().split('\n').map((l) => `ip ${l}`) : [] },
      ...t.nodes.map((n) => ({ where: `netns ${nsName(t.name, n.name)}`, what: `configure ${n.name}`, commands: configureCommands(n, wires, mark) })),
    ];
  }

  shell(state: LabState, node: string, onSpawn?: (p: BackgroundProcess) => void): Shell {
    const ns = nsName(state.name, node);
    return new LocalShell(`${node} (netns ${ns})`, this.enter(ns), { WARPLAB_LAB: state.mark }, onSpawn);
  }

  async destroy(state: LabState): Promise<string[]> {
    const names = state.objects.filter((x) => x.kind === 'netns').map((o) => o.name);
    const stopped: ProcessId[] = [];
    const { removed } = await removeNamespaces(this.host, names, state, (pids) => stopped.push(...pids.flatMap((p) => processId(p) ?? [])));
    // Gone means reaped, as for the lab's recorded processes.
    await reaped(stopped);
    return removed;
  }
}
