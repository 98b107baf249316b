// The criu driver: container workloads on a per-lab Docker engine. Each container lives in
// a holder whose network namespace warplab plumbs into the hypervisor's bridge; a move is a
// CRIU checkpoint, the destination holder's port coming up, and a restore into that holder.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Interrupted, MigrationError, ReadinessTimeout } from '../../errors.js';
import type { LabHandle } from '../../lab/handle.js';
import type { WorkloadRecord } from '../../lab/state.js';
import { LocalShell } from '../../shell/local.js';
import { hasCommand, type Shell } from '../../shell/shell.js';
import type { WorkloadSpec } from '../../topology/model.js';
import {
  attachEngine,
  CheckpointError,
  createHolder,
  CRIU_UNAVAILABLE,
  DEFAULT_CRIU,
  dockerMessage,
  inHolder,
  migrate,
  startEngine,
  startFromCheckpoint,
  workloadRootfs,
  type DockerEngine,
  type Holder,
} from '../../workload/docker/index.js';
import { ensureBridge } from '../../workload/port.js';
import { appEnv } from '../../workload/app.js';
import { ContainerShell } from '../../workload/container-shell.js';
import type { DriverContext, DriverResult, MigrationDriver, Prepared } from '../driver-types.js';

export const engineDir = (lab: LabHandle) => join(lab.path, 'docker');

/** One engine per lab; concurrent starts share it. Keyed by the lab's mark, new with every
 *  `up`: a lab brought up again under the same name (same path) gets an engine of its own. */
const engines = new Map<string, Promise<DockerEngine>>();

function engineOf(lab: LabHandle): Promise<DockerEngine> {
  const key = lab.mark;
  let e = engines.get(key);
  if (!e) {
    const dir = engineDir(lab);
    e = existsSync(join(dir, 'engine.json'))
      ? attachEngine(dir, lab.hostShell())
      : startEngine({ dir, shell: lab.hostShell(), criu: DEFAULT_CRIU });
    e.catch(() => engines.delete(key));
    engines.set(key, e);
  }
  return e;
}

interface CriuPrepared extends Prepared {
  holder: Holder;
  port: string;
}

export class CriuDriver implements MigrationDriver {
  readonly name = 'criu';
  readonly kind = 'container' as const;
  readonly announce = 'garp' as const;

  async missing(_workloads: readonly WorkloadSpec[]): Promise<string[]> {
    const out: string[] = [];
    const has = (cmd: string) => hasCommand(new LocalShell(), cmd);
    if (!(await has('dockerd'))) out.push('dockerd is missing: apt-get install docker.io containerd runc (or run bash ci/setup.sh)');
    if (existsSync(CRIU_UNAVAILABLE)) out.push(`container workloads: CRIU cannot checkpoint on this machine: ${readFileSync(CRIU_UNAVAILABLE, 'utf8').trim()}`);
    else if (!existsSync(DEFAULT_CRIU)) out.push(`no working CRIU at ${DEFAULT_CRIU}: run bash ci/criu.sh (builds CRIU >= 4.1)`);
    if (!existsSync(workloadRootfs)) out.push(`${workloadRootfs} is not built: run bash ci/setup.sh`);
    if (!(await has('busybox'))) out.push('busybox is missing (it sends the restored container\'s gratuitous ARP): apt-get install busybox-static');
    return out;
  }

  /** A holder on `hv`, its eth0 carrying the workload's address and MAC; its port on the bridge is up only when asked. */
  private async holderOn(ctx: DriverContext, engine: DockerEngine, hv: string, up: boolean): Promise<{ holder: Holder; port: string }> {
    const { lab, workload: w } = ctx;
    const shell = lab.shell(hv);
    const bridge = await ensureBridge(shell, ctx.portOn(hv), lab.mark);
    const holder = await createHolder(engine.docker, `${w.name}-holder-${hv}-${Date.now() % 100000}`, engine.image);
    const port = `wc${lab.topology.workloads.indexOf(w)}`;
    await shell.exec(['sh', '-ec', `ip link del $1 2>/dev/null || true; ip link add $1 type veth peer name eth0 netns $2; ip link set $1 alias "$4" master $3; ${up ? 'ip link set $1 up' : ''}`, 'port', port, String(holder.pid), bridge, lab.mark]);
    const inside = [
      `link set eth0 address ${w.mac} up`,
      `addr add ${w.ipv4} dev eth0`,
      ...(w.gateway ? [`route add default via ${w.gateway}`] : []),
    ].join('\n');
    await lab.hostShell().exec(['nsenter', `--net=${holder.netnsPath}`, '--', 'ip', '-batch', '-'], { input: inside + '\n' });
    return { holder, port };
  }

  async start(ctx: DriverContext, on: string): Promise<WorkloadRecord> {
    ctx.onProgress?.({ phase: 'start', detail: `${ctx.workload.name} on ${on}` });
    const engine = await engineOf(ctx.lab);
    const { holder } = await this.holderOn(ctx, engine, on, true);
    const c = await engine.docker.createContainer({
      name: `${ctx.workload.name}-${Date.now() % 100000}`,
      Image: engine.image,
      Cmd: ['/bin/sh', '/app.sh'],
      Env: appEnv(ctx.workload),
      HostConfig: { NetworkMode: inHolder(holder) },
    });
    await c.start();
    for (const deadline = Date.now() + 10_000; ; await sleep(20)) {
      const logs = String(await c.logs({ stdout: true, stderr: true }));
      if (logs.includes('udp-recv: listening')) break;
      if (Date.now() > deadline) throw new ReadinessTimeout(`container ${ctx.workload.name} on ${on} did not start its app within 10 s: ${logs.trim().slice(-300)}`);
    }
    const pid = (await c.inspect()).State.Pid;
    return { on, pid, details: { container: c.id, holder: holder.id, holderPid: String(holder.pid) } };
  }

  async prepare(ctx: DriverContext, _from: WorkloadRecord, to: string): Promise<Prepared> {
    ctx.onProgress?.({ phase: 'prepare', detail: `holder on ${to}` });
    const engine = await engineOf(ctx.lab);
    const { holder, port } = await this.holderOn(ctx, engine, to, false);
    const p: CriuPrepared = {
      to,
      holder,
      port,
      cancel: async () => {
        await engine.docker.getContainer(holder.id).remove({ force: true }).catch(() => {});
      },
    };
    return p;
  }

  async migrate(ctx: DriverContext, from: WorkloadRecord, p: Prepared): Promise<DriverResult> {
    const dest = p as CriuPrepared;
    const { lab, workload: w } = ctx;
    const engine = await engineOf(lab);
    const name = `m${Date.now()}`;
    ctx.events.record('migration-started', 'criu', `${w.name}: ${from.on} → ${dest.to}`);
    ctx.onProgress?.({ phase: 'checkpoint', detail: w.name });
    if (ctx.signal?.aborted) {
      await dest.cancel();
      throw new Interrupted(`migration of ${w.name} to ${dest.to} cancelled before its checkpoint; ${w.name} still runs on ${from.on}`);
    }
    let moved;
    try {
      moved = await migrate(engine.docker, engine, {
        source: from.details.container!,
        checkpointName: name,
        name: `${w.name}-${Date.now() % 100000}`,
        networkMode: inHolder(dest.holder),
        between: async () => {
          ctx.events.record('source-stopped', `criu@${from.on}`);
          ctx.onProgress?.({ phase: 'restore', detail: `${w.name} on ${dest.to}` });
          // The destination's port comes up only now: the same address never answers in two places.
          await lab.shell(dest.to).exec(['ip', 'link', 'set', dest.port, 'up']);
        },
      });
    } catch (e) {
      if (e instanceof CheckpointError) {
        await dest.cancel();
        throw new MigrationError(`checkpoint of ${w.name} on ${from.on} failed: ${e.message}; ${w.name} still runs on ${from.on}`);
      }
      await this.resumeAtSource(ctx, engine, from, dest, name);
      throw new MigrationError(`restore of ${w.name} on ${dest.to} failed: ${(e as Error).message}; ${w.name} runs again on ${from.on} (restored there from its checkpoint)`);
    }
    ctx.events.record('destination-resumed', `criu@${dest.to}`);
    // A restored container says nothing by itself: announce it as a moved VM's guest would.
    await lab.hostShell().exec(['nsenter', `--net=${dest.holder.netnsPath}`, '--', 'busybox', 'arping', '-U', '-c', '1', '-I', 'eth0', '-s', w.ipv4.split('/')[0]!, w.ipv4.split('/')[0]!], { check: false });
    await engine.docker.getContainer(from.details.container!).remove({ force: true }).catch(() => {});
    await engine.docker.getContainer(from.details.holder!).remove({ force: true }).catch(() => {});
    const pid = (await engine.docker.getContainer(moved.id).inspect()).State.Pid;
    return {
      placement: { on: dest.to, pid, details: { container: moved.id, holder: dest.holder.id, holderPid: String(dest.holder.pid) } },
      figures: {
        checkpointMs: moved.checkpointMs,
        createMs: moved.createMs,
        copyMs: moved.copyMs,
        restoreMs: moved.restoreMs,
        // From the start of the dump (the container freezes during it) to the restore's end.
        stopToResumeMs: moved.checkpointMs + moved.switchMs + moved.createMs + moved.copyMs + moved.restoreMs,
        restoreAttempts: moved.attempts,
      },
    };
  }

  /** Through the lab's engine, into the container that runs it now (a move makes a new one). */
  shell(ctx: DriverContext, at: WorkloadRecord, where: string): Shell {
    return new ContainerShell(where, async () => (await engineOf(ctx.lab)).docker, at.details.container!);
  }

  /** The restore failed: the destination goes away, the source starts again from the checkpoint. */
  private async resumeAtSource(ctx: DriverContext, engine: DockerEngine, from: WorkloadRecord, dest: CriuPrepared, name: string): Promise<void> {
    await dest.cancel();
    try {
      await startFromCheckpoint(engine.docker, from.details.container!, name);
    } catch (e) {
      throw new MigrationError(`restore of ${ctx.workload.name} on ${dest.to} failed, and so did restarting it on ${from.on} from its checkpoint: ${dockerMessage(e)}; ${ctx.workload.name} is stopped (its checkpoint ${name} is kept)`);
    }
    const pid = (await engine.docker.getContainer(from.details.container!).inspect()).State.Pid;
    ctx.lab.recordWorkload(ctx.workload.name, { ...from, pid });
  }
}
