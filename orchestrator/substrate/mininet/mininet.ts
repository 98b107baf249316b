// The mininet substrate: the same topologies on Mininet. A helper (helper.py) drives
// Mininet's Python API inside a private sandbox (its own network, PID and mount
// namespaces) and answers JSON lines; node Shells enter a node's network namespace from
// the host (`nsenter --net=/proc/HOSTPID/ns/net`), so agents, probes and workloads started
// through them are ordinary host processes that the lab records, as on the netns substrate.
//
// Ownership: the sandbox is the lab's only host-level object. It is recorded the moment it
// is spawned, carries the lab's mark in its environment, and `down` — from the state file
// alone — kills it with SIGKILL, which makes the kernel remove every node, link and switch.
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { Interrupted, LabError, SubstrateError } from '../../errors.js';
import { alive, carriesMark, netnsInode, processesIn, processId, reaped, signal, waitGone } from '../../lab/processes.js';
import type { LabState, OwnedObject } from '../../lab/state.js';
import { LocalShell } from '../../shell/local.js';
import { PidNetnsShell, pidIn } from '../../shell/pid-netns.js';
import type { BackgroundProcess, Shell } from '../../shell/shell.js';
import type { Topology } from '../../topology/model.js';
import { linkParamsMissing } from '../netns/linkparams.js';
import type { BuildContext, Substrate } from '../substrate.js';
import { HelperClient, helperScript } from './helper-client.js';
import { buildRequest, SWITCH_KINDS, type SwitchKind } from './plan.js';

/** How the lab state records the sandbox and the nodes (OwnedObject `netns`, entered by path). */
export const SANDBOX_OBJECT = 'mininet-sandbox';
export const NODE_OBJECT = 'mininet-node';

export const DEFAULT_PYTHON = '/usr/bin/python3';
const READY_TIMEOUT_MS = 30_000;
const BUILD_TIMEOUT_MS = 15 * 60_000;

export interface MininetOptions {
  /** lxbr (Linux bridges) or ovs (Open vSwitch, userspace datapath); env WARPLAB_MININET_SWITCH, default lxbr. */
  switch?: string;
  /** The Python that imports Mininet; env WARPLAB_MININET_PYTHON, default /usr/bin/python3 (Debian's Mininet is not on pyenv's). */
  python?: string;
  /** Runs host commands (capability checks); tests pass a recording fake. */
  host?: Shell;
}

/**
 * Waits until no process is left in the sandbox's PID namespace or in the lab's network
 * namespaces. A zombie holds neither, unless it is the main thread of a process whose other
 * threads still run: the helper is multi-threaded, its main thread can show Z while another
 * thread is still exiting, and only the last one to go kills the rest of the PID namespace.
 */
async function waitEmpty(pidNs: string | undefined, inodes: Set<number>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  const occupied = () =>
    readdirSync('/proc').some((d) => {
      if (!/^\d+$/.test(d)) return false;
      try {
        const mine = (pidNs && readlinkSync(`/proc/${d}/ns/pid`) === pidNs) || inodes.has(Number(/\[(\d+)\]/.exec(readlinkSync(`/proc/${d}/ns/net`))?.[1]));
        return mine && (alive(Number(d)) || readdirSync(`/proc/${d}/task`).length > 1);
      } catch {
        return false; // gone, a zombie, or a kernel thread
      }
    });
  while (occupied() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export class MininetSubstrate implements Substrate {
  readonly name = 'mininet';
  readonly python: string;
  private readonly switchSetting: string;
  private readonly host: Shell;
  private client?: HelperClient;

  constructor(opts: MininetOptions = {}) {
    this.switchSetting = opts.switch ?? process.env.WARPLAB_MININET_SWITCH ?? 'lxbr';
    this.python = opts.python ?? process.env.WARPLAB_MININET_PYTHON ?? DEFAULT_PYTHON;
    this.host = opts.host ?? new LocalShell('host');
  }

  get switchKind(): SwitchKind {
    if (!(SWITCH_KINDS as readonly string[]).includes(this.switchSetting)) {
      throw new SubstrateError(`Mininet switch "${this.switchSetting}" is not supported. Supported switches are "lxbr" (Linux bridge), "ovs" (Open vSwitch, userspace datapath); set WARPLAB_MININET_SWITCH`);
    }
    return this.switchSetting as SwitchKind;
  }

  /** The helper of a lab this object brought up, while its sandbox lives (benchmarks use its protocol). */
  get helper(): HelperClient | undefined {
    return this.client?.alive ? this.client : undefined;
  }

  async missing(t: Topology): Promise<string[]> {
    const out: string[] = [];
    if (process.getuid?.() !== 0) out.push("the mininet substrate needs root (Mininet's nodes are network namespaces): run as root");
    let sw: SwitchKind | undefined;
    try {
      sw = this.switchKind;
    } catch (e) {
      out.push((e as Error).message);
    }
    const ovs = sw === 'ovs' && t.nodes.some((n) => n.kind === 'lan');
    const tools: [string, string][] = [
      ['unshare', 'util-linux'],
      ['nsenter', 'util-linux'],
      ['ip', 'iproute2'],
      ['mnexec', 'mininet'],
      ...(ovs ? ([['ovsdb-server', 'openvswitch-switch'], ['ovs-vswitchd', 'openvswitch-switch'], ['ovsdb-tool', 'openvswitch-switch'], ['ovs-vsctl', 'openvswitch-switch'], ['ethtool', 'ethtool']] as [string, string][]) : []),
    ];
    const py = JSON.stringify(this.python);
    const script = [
      ...tools.map(([tool, pkg]) => `command -v ${tool} >/dev/null || echo "${tool} ${pkg}"`),
      `[ -x ${py} ] || { echo "python"; exit 0; }`,
      `${py} -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("mininet.net") is None)' 2>/dev/null || echo "mininet"`,
      ...(ovs ? ['[ -f /usr/share/openvswitch/vswitch.ovsschema ] || echo "ovsschema"'] : []),
    ].join('\n');
    const r = await this.host.exec(['sh', '-c', script], { check: false });
    const install = 'apt-get install mininet (or run bash ci/setup.sh)';
    for (const line of r.stdout.split('\n').filter(Boolean)) {
      const [what, pkg] = line.split(' ');
      if (what === 'python') out.push(`${this.python} is missing: Mininet's Python API runs under the system Python; ${install}, or point WARPLAB_MININET_PYTHON at a Python that imports mininet`);
      else if (what === 'mininet') out.push(`Mininet is not installed: ${this.python} cannot import mininet; ${install}`);
      else if (what === 'ovsschema') out.push('Open vSwitch\'s schema /usr/share/openvswitch/vswitch.ovsschema is missing: apt-get install openvswitch-switch (or use WARPLAB_MININET_SWITCH=lxbr)');
      else out.push(`${what} is missing: apt-get install ${pkg} (or run bash ci/setup.sh)`);
    }
    if (!existsSync(helperScript)) out.push(`${helperScript} is missing: reinstall warplab`);
    if (!out.length) out.push(...(await linkParamsMissing(t, this.host)));
    return out;
  }

  async create(t: Topology, ctx: BuildContext): Promise<void> {
    const sw = this.switchKind;
    if (ctx.signal?.aborted) throw new Interrupted('interrupted while bringing the lab up');
    const client = new HelperClient(this.python, { WARPLAB_LAB: ctx.state.mark });
    if (client.pid < 0) {
      const why = await client.exited;
      throw new SubstrateError(`cannot start the Mininet sandbox: ${why}`);
    }
    this.client = client;
    // Recorded the moment it exists: everything else lives inside it. If this process dies
    // before `detach`, the helper sees EOF and ends the sandbox itself.
    ctx.record([{ kind: 'netns', name: SANDBOX_OBJECT, node: '', netns: `/proc/${client.pid}/ns/net` }]);
    client.onEvent = (e) => {
      if (e.event === 'progress') ctx.progress({ stage: String(e.stage), done: Number(e.done), total: Number(e.total) });
    };
    const abort = () => client.kill();
    ctx.signal?.addEventListener('abort', abort, { once: true });
    try {
      await Promise.race([
        client.ready,
        new Promise((_, reject) => setTimeout(() => reject(new SubstrateError(`the Mininet helper did not start within ${READY_TIMEOUT_MS / 1000} s`)), READY_TIMEOUT_MS).unref()),
      ]);
      const res = await client.request('build', { ...buildRequest(t, ctx.state.mark, sw) }, { timeoutMs: BUILD_TIMEOUT_MS, signal: ctx.signal });
      const nodes = res.nodes as Record<string, { hostPid: number }>;
      ctx.record(t.nodes.map((n): OwnedObject => ({ kind: 'netns', name: NODE_OBJECT, node: n.name, netns: `/proc/${nodes[n.name]!.hostPid}/ns/net` })));
      await client.detach();
    } catch (e) {
      if (ctx.signal?.aborted) {
        // The abort killed the sandbox: report once it is gone.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([client.exited, new Promise((r) => (timer = setTimeout(r, 10_000)))]);
        clearTimeout(timer);
        throw new Interrupted('interrupted while bringing the lab up');
      }
      throw e;
    } finally {
      ctx.signal?.removeEventListener('abort', abort);
    }
  }

  shell(state: LabState, node: string, onSpawn?: (p: BackgroundProcess) => void): Shell {
    const o = state.objects.find((x) => x.kind === 'netns' && x.name === NODE_OBJECT && x.node === node);
    if (!o) throw new LabError(`lab ${state.name} has no Mininet node "${node}" recorded (is the lab still coming up?)`);
    const pid = pidIn(o.netns);
    return new PidNetnsShell(`${node} (mininet node, pid ${pid})`, pid, state.mark, `node ${node}: its Mininet namespace (pid ${pid}) is gone; the lab's sandbox has ended (\`warplab down\` it)`, onSpawn);
  }

  async destroy(state: LabState): Promise<string[]> {
    const removed: string[] = [];
    const sandbox = state.objects.find((x) => x.kind === 'netns' && x.name === SANDBOX_OBJECT);
    if (!sandbox) return removed;
    const u = pidIn(sandbox.netns);
    if (!carriesMark(u, state.mark)) {
      // Gone already (its helper saw the orchestrator die mid-build, or it was killed), or
      // the PID now belongs to someone else: nothing of ours is left to end.
      return removed;
    }
    const init = childrenOf(u)[0];
    // Host processes inside the lab's namespaces (agents, probes, workloads started through
    // Shells) hold those namespaces: stop them first, as the netns substrate does.
    const nodes = state.objects.filter((x) => x.kind === 'netns' && x.name === NODE_OBJECT).map((x) => pidIn(x.netns));
    const inodes = new Set([u, ...nodes].filter((p) => carriesMark(p, state.mark)).map(netnsInode).filter((i): i is number => i !== undefined));
    let pidNs: string | undefined;
    try {
      pidNs = init ? readlinkSync(`/proc/${init}/ns/pid`) : undefined;
    } catch {
      pidNs = undefined;
    }
    // Down waits for their reaping, and for unshare's, as for the lab's recorded processes.
    const stopped = [u].flatMap((p) => processId(p) ?? []);
    for (const sig of ['TERM', 'KILL'] as const) {
      const pids = processesIn(inodes, new Set([u, process.pid]), pidNs);
      if (!pids.length) break;
      stopped.push(...pids.flatMap((p) => processId(p) ?? []));
      pids.forEach((p) => signal(p, `SIG${sig}`));
      removed.push(...pids.map((p) => `process ${p} (SIG${sig})`));
      if (sig === 'TERM') await waitGone(pids, 2000);
    }
    // The sandbox's init: its death ends the PID namespace, and unshare, which waits for
    // it, reaps it and exits (SIGKILL to unshare instead would leave the reaping to
    // whatever adopts the init, at its own pace). Without a known init, unshare
    // (--kill-child passes the SIGKILL on).
    signal(init && carriesMark(init, state.mark) ? init : u, 'SIGKILL');
    if (this.client && this.client.pid === u) {
      // A ref'd timer: the detached helper no longer keeps this process alive by itself.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.client.exited, new Promise((r) => (timer = setTimeout(r, 5000)))]);
      clearTimeout(timer);
    }
    await waitGone([u], 10_000);
    await waitEmpty(pidNs, inodes, 5000);
    await reaped(stopped);
    removed.push(`sandbox ${u} (Mininet, ${nodes.length} nodes)`);
    return removed;
  }
}
