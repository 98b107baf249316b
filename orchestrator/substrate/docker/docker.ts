// The docker substrate: every node a container, as containerlab makes them. By default on
// the lab's own Docker engine (the one container workloads use: offline, reaped by `down`),
// or on a daemon of the user's (`--docker-host`). Containers have no network but loopback;
// links are veths created straight into their namespaces (/proc/PID/ns/net), and every
// address, route and sysctl comes from the netns substrate's own plans, applied from the
// host with nsenter. So agents, probes and workloads run unchanged, as on Mininet.
//
// Ownership: the engine (a folder, or an external socket) is recorded before it starts and
// every container before it is made; containers carry the lab's labels and mark. `down`
// removes containers by the lab's id label only, then the lab's own engine with everything
// left on it.
import { existsSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { SubstrateError } from '../../errors.js';
import { carriesMark, netnsInode, processesIn, processId, reaped, signal, waitGone, type ProcessId } from '../../lab/processes.js';
import type { LabState, OwnedObject } from '../../lab/state.js';
import { pool } from '../../pool.js';
import { LocalShell } from '../../shell/local.js';
import { PidNetnsShell, pidIn } from '../../shell/pid-netns.js';
import { hasCommand, type BackgroundProcess, type Shell } from '../../shell/shell.js';
import type { Topology } from '../../topology/model.js';
import { ContainerShell } from '../../workload/container-shell.js';
import {
  connectDocker,
  CRIU_UNAVAILABLE,
  DEFAULT_CRIU,
  dockerMessage,
  engineLayout,
  ensureWorkloadImage,
  reapEngine,
  startEngine,
  workloadRootfs,
  type Dockerode,
} from '../../workload/docker/index.js';
import { configureNodes, interruptCheck } from '../netns/configure.js';
import { linkParamsMissing } from '../netns/linkparams.js';
import { linksBatch, wiresOf } from '../netns/plan.js';
import type { BuildContext, Substrate } from '../substrate.js';
import { chooseImages, containerName, dockerSocket, LABELS, NODE_OBJECT, nodeContainer, pidWires } from './plan.js';

// 8 at a time measured no faster than 4 (chain of 50: 7.5–9.2 s either way): dockerd is the bottleneck.
const STARTING_AT_ONCE = 4;

export interface DockerOptions {
  /** A daemon of the user's (`unix:///var/run/docker.sock`); absent: the lab's own engine. Env WARPLAB_DOCKER_HOST, then DOCKER_HOST. */
  dockerHost?: string;
  /** A named image that is missing is an error even where warplab's image may stand in. Env WARPLAB_STRICT_IMAGES=1. */
  strictImages?: boolean;
  /** Runs host commands; tests pass a recording fake. */
  host?: Shell;
}

/** The engine a lab's state recorded, and a client for it. */
function recordedEngine(state: LabState): { object: OwnedObject; docker: Dockerode } | undefined {
  const object = state.objects.find((o) => o.kind === 'docker-engine');
  if (!object) return undefined;
  return { object, docker: connectDocker(object.external ? object.name : engineLayout(object.name).socket) };
}

export class DockerSubstrate implements Substrate {
  readonly name = 'docker';
  private readonly dockerHost: string | undefined;
  private readonly strictImages: boolean;
  private readonly host: Shell;

  constructor(o: DockerOptions = {}) {
    this.dockerHost = o.dockerHost ?? (process.env.WARPLAB_DOCKER_HOST || process.env.DOCKER_HOST || undefined);
    this.strictImages = o.strictImages ?? process.env.WARPLAB_STRICT_IMAGES === '1';
    this.host = o.host ?? new LocalShell('host');
  }

  async missing(t: Topology): Promise<string[]> {
    const out: string[] = [];
    if (process.getuid?.() !== 0) out.push('the docker substrate needs root (it plumbs veths into the containers\' namespaces): run as root');
    const tools: [string, string][] = [['ip', 'iproute2'], ['nsenter', 'util-linux'], ...(this.dockerHost ? [] : ([['dockerd', 'docker.io containerd runc']] as [string, string][]))];
    for (const [tool, pkg] of tools) {
      if (!(await hasCommand(this.host, tool))) out.push(`${tool} is missing: apt-get install ${pkg} (or run bash ci/setup.sh)`);
    }
    if (this.dockerHost) {
      const socket = dockerSocket(this.dockerHost);
      if (!socket) out.push(`docker host ${this.dockerHost}: the docker substrate needs the daemon on this machine (a unix:// socket), since it plumbs links into /proc/PID/ns/net of each container`);
      else if (!existsSync(socket)) out.push(`docker host ${this.dockerHost}: no socket at ${socket} (is dockerd running?)`);
    }
    if (!existsSync(workloadRootfs)) out.push(`${workloadRootfs} (warplab's node image) is not built: run bash ci/setup.sh`);
    if (!out.length) out.push(...(await linkParamsMissing(t, this.host)));
    return out;
  }

  /** The lab's own engine, started under the lab's folder; CRIU on its PATH when one works here, for container workloads. */
  private async engine(ctx: BuildContext): Promise<Dockerode> {
    if (this.dockerHost) {
      const socket = dockerSocket(this.dockerHost)!;
      ctx.record([{ kind: 'docker-engine', name: socket, node: '', external: true }]);
      const docker = connectDocker(socket);
      await docker.ping({ abortSignal: AbortSignal.timeout(5000) }).catch((e) => {
        throw new SubstrateError(`the Docker daemon at ${this.dockerHost} does not answer: ${dockerMessage(e)}`);
      });
      await ensureWorkloadImage(docker);
      return docker;
    }
    const dir = join(ctx.path, 'docker');
    ctx.record([{ kind: 'docker-engine', name: dir, node: '' }]);
    const criu = existsSync(DEFAULT_CRIU) && !existsSync(CRIU_UNAVAILABLE) ? DEFAULT_CRIU : undefined;
    const shell = new LocalShell('host', [], { WARPLAB_LAB: ctx.state.mark });
    return (await startEngine({ dir, shell, ...(criu ? { criu } : {}), ...(ctx.signal ? { signal: ctx.signal } : {}) })).docker;
  }

  async create(t: Topology, ctx: BuildContext): Promise<void> {
    const check = interruptCheck(ctx);
    ctx.progress({ stage: 'engine', done: 0, total: 1 });
    const docker = await this.engine(ctx);
    ctx.progress({ stage: 'engine', done: 1, total: 1 });
    check();

    const names = t.nodes.map((n) => containerName(t.name, n.name));
    const clash = (await docker.listContainers({ all: true, filters: { name: names.map((n) => `^/${n}$`) } })).map((c) => c.Names[0]?.slice(1));
    if (clash.length) throw new SubstrateError(`containers already exist and were not made by this lab: ${clash.join(', ')}; nothing was changed`);
    const wanted = [...new Set(t.nodes.flatMap((n) => n.container?.image ?? []))];
    const present = new Set<string>();
    for (const image of wanted) if (await docker.getImage(image).inspect().then(() => true, () => false)) present.add(image);
    const { choices, errors } = chooseImages(t.nodes, present, this.strictImages);
    if (errors.length) throw new SubstrateError(`images missing:\n  - ${errors.join('\n  - ')}`);
    for (const c of choices.filter((x) => x.substitutes)) process.stderr.write(`warplab: warning: node ${c.node}: image ${c.substitutes} is not on the engine; it runs warplab's node image ${c.image} instead (--strict-images makes this an error)\n`);

    ctx.record(t.nodes.map((n) => ({ kind: 'container' as const, name: containerName(t.name, n.name), node: n.name })));
    const pids = new Map<string, number>();
    let done = 0;
    ctx.progress({ stage: 'containers', done, total: t.nodes.length });
    const started = await pool(t.nodes, STARTING_AT_ONCE, async (n) => {
      check();
      const c = await docker.createContainer(nodeContainer(ctx.state, n, choices.find((x) => x.node === n.name)!.image));
      await c.start();
      const pid = (await c.inspect()).State.Pid;
      pids.set(n.name, pid);
      const inode = netnsInode(pid);
      ctx.record([{ kind: 'netns', name: NODE_OBJECT, node: n.name, netns: `/proc/${pid}/ns/net`, ...(inode ? { inode } : {}) }]);
      ctx.progress({ stage: 'containers', done: ++done, total: t.nodes.length });
    });
    check(); // an interrupt is the answer, not the starts it cut short
    const failed = started.map((r, i) => [t.nodes[i]!.name, r] as const).filter(([, r]) => r.status === 'rejected');
    if (failed.length) {
      throw new SubstrateError(`containers failed to start:\n${failed.map(([n, r]) => `  ${n}: ${dockerMessage((r as PromiseRejectedResult).reason)}`).join('\n')}`);
    }

    const wires = pidWires(wiresOf(t), pids);
    ctx.record(wires.flatMap((w) => [w.a, w.b]).map((e) => ({ kind: 'link' as const, name: e.ifname, node: e.node, netns: `/proc/${e.ns}/ns/net` })));
    ctx.progress({ stage: 'links', done: 0, total: wires.length });
    if (wires.length) await this.host.exec(['ip', '-batch', '-'], { input: linksBatch(wires) });
    ctx.progress({ stage: 'links', done: wires.length, total: wires.length });
    check();

    await configureNodes(this.host, t, wires, (node) => ['nsenter', `--net=/proc/${pids.get(node)}/ns/net`, '--'], ctx);
  }

  private recordedNode(state: LabState, node: string): OwnedObject {
    const o = state.objects.find((x) => x.kind === 'netns' && x.name === NODE_OBJECT && x.node === node);
    if (!o) throw new SubstrateError(`lab ${state.name} has no container node "${node}" recorded (is the lab still coming up?)`);
    return o;
  }

  shell(state: LabState, node: string, onSpawn?: (p: BackgroundProcess) => void): Shell {
    const pid = pidIn(this.recordedNode(state, node).netns);
    return new PidNetnsShell(`${node} (container ${containerName(state.name, node)}, pid ${pid})`, pid, state.mark, `node ${node}: its container (pid ${pid}) is gone; \`warplab down ${state.name}\` removes the rest`, onSpawn);
  }

  /** `docker exec`: the image's own tools and files (containerlab's `exec:` lines). */
  imageShell(state: LabState, node: string): Shell {
    this.recordedNode(state, node);
    const engine = recordedEngine(state);
    if (!engine) throw new SubstrateError(`lab ${state.name} has no Docker engine recorded`);
    return new ContainerShell(`${node} (docker exec ${containerName(state.name, node)})`, async () => engine.docker, containerName(state.name, node));
  }

  async destroy(state: LabState): Promise<string[]> {
    const removed: string[] = [];
    // Host processes entered into the nodes' namespaces (agents, probes, QEMU) hold them:
    // stop those that carry the lab's mark. A recorded inode can be reused once its namespace
    // is gone, so the mark, not the inode alone, says what is ours. The containers' own
    // processes (another PID namespace) go with their containers.
    const hostPidNs = readlinkSync('/proc/self/ns/pid');
    const onHost = (p: number) => {
      try {
        return readlinkSync(`/proc/${p}/ns/pid`) === hostPidNs;
      } catch {
        return false;
      }
    };
    const inodes = new Set(state.objects.flatMap((o) => (o.kind === 'netns' && o.name === NODE_OBJECT && o.inode ? [o.inode] : [])));
    const stopped: ProcessId[] = [];
    for (const sig of ['TERM', 'KILL'] as const) {
      const pids = inodes.size ? processesIn(inodes, new Set([process.pid])).filter((p) => onHost(p) && carriesMark(p, state.mark)) : [];
      if (!pids.length) break;
      stopped.push(...pids.flatMap((p) => processId(p) ?? []));
      pids.forEach((p) => signal(p, `SIG${sig}`));
      removed.push(...pids.map((p) => `process ${p} (SIG${sig})`));
      if (sig === 'TERM') await waitGone(pids, 2000);
    }
    const engine = recordedEngine(state);
    if (engine) {
      // Containers go by the lab's id label: one that lost it is not ours to touch.
      const ours = await engine.docker.listContainers({ all: true, filters: { label: [`${LABELS.labId}=${state.id}`] } }).catch(() => []);
      await Promise.all(ours.map((c) => engine.docker.getContainer(c.Id).remove({ force: true, v: true })));
      removed.push(...ours.map((c) => `container ${c.Names[0]?.slice(1) ?? c.Id}`));
      if (!engine.object.external && existsSync(engine.object.name)) {
        await reapEngine(engine.object.name, this.host);
        removed.push(`docker engine ${engine.object.name}`);
      }
    }
    await reaped(stopped);
    return removed;
  }
}
