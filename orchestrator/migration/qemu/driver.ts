// The qemu driver: the destination QEMU starts on the destination hypervisor with
// `-incoming`, the source migrates to it over the migration network, QMP reports progress
// and QEMU's own figures (downtime, total time, bytes). Everything goes through the
// hypervisor's Shell and machine, so a hypervisor may be an SSH host.
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Interrupted, MigrationError, ReadinessTimeout } from '../../errors.js';
import { MachineSocket } from '../../lab/machine.js';
import { endThrough } from '../../lab/processes.js';
import type { WorkloadRecord } from '../../lab/state.js';
import { LocalShell } from '../../shell/local.js';
import type { BackgroundProcess, Shell } from '../../shell/shell.js';
import type { WorkloadSpec } from '../../topology/model.js';
import { migrationAddress } from '../../topology/workloads.js';
import { ensureBridge, ensureTap } from '../../workload/port.js';
import { chooseAccel, guestInitrd, guestKernel, parseQemuVersion, qemuArgv, tcgMigrationSafe, TCG_MIGRATION_MIN_QEMU, vmFiles, type Accel } from '../../workload/vm.js';
import { VmShell } from '../../workload/vm-shell.js';
import type { DriverContext, DriverResult, MigrationDriver, Prepared } from '../driver-types.js';
import { Qmp } from './qmp.js';

const MIGRATION_PORT = 4444;
const BOOT_TIMEOUT_MS = 120_000;

interface QemuPrepared extends Prepared {
  proc: BackgroundProcess;
  qmp: Qmp;
  uri: string;
  accel: Accel;
  qemu: string;
}

let qemuVersion: Promise<[number, number] | null> | undefined;
/** The installed QEMU's version, asked once per process. */
function installedQemu(): Promise<[number, number] | null> {
  qemuVersion ??= new LocalShell()
    .exec(['qemu-system-x86_64', '--version'], { check: false })
    .then((r) => (r.exitCode === 0 ? parseQemuVersion(r.stdout) : null))
    .catch(() => null);
  return qemuVersion;
}

/** What QEMU and KVM a hypervisor's machine has, asked once per lab and machine. */
interface HypervisorFacts {
  where: string;
  qemu: [number, number] | null;
  cpuFlags: string;
  kvmDevice: boolean;
}

const FACTS = 'qemu-system-x86_64 --version 2>&1 | head -n 1; test -e /dev/kvm && echo kvm-device; grep -m 1 "^flags" /proc/cpuinfo; true';
const facts = new Map<string, Promise<HypervisorFacts>>();

function hypervisorFacts(ctx: DriverContext, on: string): Promise<HypervisorFacts> {
  const where = ctx.lab.machine(on).where;
  const key = `${ctx.lab.mark} ${where}`;
  let f = facts.get(key);
  if (!f) {
    f = ctx.lab
      .shell(on)
      .exec(['sh', '-c', FACTS])
      .then((r) => ({ where, qemu: parseQemuVersion(r.stdout), cpuFlags: r.stdout, kvmDevice: /^kvm-device$/m.test(r.stdout) }));
    f.catch(() => facts.delete(key));
    facts.set(key, f);
  }
  return f;
}

/** Why QEMU `version` on `where` cannot run the workloads (`tcg`: those that would run under TCG there); undefined: it can. */
function qemuProblem(version: [number, number] | null, where: string, tcg: readonly string[]): string | undefined {
  if (!version) return `qemu-system-x86_64 is missing on ${where}: apt-get install qemu-system-x86 (or run bash ci/setup.sh)`;
  if (tcg.length && !tcgMigrationSafe(version)) return `QEMU ${version.join('.')} on ${where} loses guest memory writes when it live-migrates under TCG (${tcg.join(', ')} would run TCG there: no usable KVM): install QEMU >= ${TCG_MIGRATION_MIN_QEMU.join('.')} (bash ci/setup.sh takes it from bookworm-backports on Debian 12), or run on a machine with KVM`;
  return undefined;
}

/** The accelerator for `ctx`'s workload on `on`, or why QEMU there cannot run it. */
async function usableAccel(ctx: DriverContext, on: string): Promise<{ accel: Accel; qemu: string }> {
  const f = await hypervisorFacts(ctx, on);
  const accel = chooseAccel(ctx.workload.vm.accel, f.cpuFlags, f.kvmDevice);
  const problem = qemuProblem(f.qemu, f.where, accel === 'tcg' ? [ctx.workload.name] : []);
  if (problem || !f.qemu) throw new MigrationError(problem);
  return { accel, qemu: f.qemu.join('.') };
}

/** The last lines of a file on `on`'s machine, for an error message. */
async function tail(ctx: DriverContext, on: string, path: string, lines = 3): Promise<string> {
  const text = await ctx.lab.machine(on).read(path).catch(() => '');
  return text.trim().split('\n').slice(-lines).join(' | ');
}

/** The tap of workload `w` on any hypervisor (same name everywhere: one per namespace). */
function tapOf(ctx: DriverContext): string {
  return `wt${ctx.lab.topology.workloads.findIndex((x) => x.name === ctx.workload.name)}`;
}

export class QemuDriver implements MigrationDriver {
  readonly name = 'qemu';
  readonly kind = 'vm' as const;
  readonly announce = 'rarp' as const;

  async missing(workloads: readonly WorkloadSpec[]): Promise<string[]> {
    const tcg = workloads.filter((w) => w.kind === 'vm' && chooseAccel(w.vm.accel) === 'tcg').map((w) => w.name);
    const problem = qemuProblem(await installedQemu(), 'this machine', tcg);
    const out = problem ? [problem] : [];
    for (const f of [guestKernel, guestInitrd]) if (!existsSync(f)) out.push(`${f} is not built: run bash ci/setup.sh (needs linux-image-amd64, busybox-static)`);
    return out;
  }

  private async spawnQemu(ctx: DriverContext, on: string, incoming?: string): Promise<{ proc: BackgroundProcess; qmp: Qmp; accel: Accel; qemu: string }> {
    const { lab, workload: w } = ctx;
    const shell = lab.shell(on);
    const machine = lab.machine(on);
    const dir = ctx.dirOn(on);
    const [{ accel, qemu }, kernel, initrd] = await Promise.all([usableAccel(ctx, on), machine.place(guestKernel), machine.place(guestInitrd), shell.exec(['mkdir', '-p', dir])]);
    const port = ctx.portOn(on);
    const bridge = await ensureBridge(shell, port, lab.mark);
    await ensureTap(shell, bridge, tapOf(ctx), lab.mark);
    const files = vmFiles(dir, on);
    const log = `${dir}/${on}.qemu.log`;
    const proc = shell.spawn(qemuArgv(w, { accel, tap: tapOf(ctx), files, guest: { kernel, initrd }, ...(incoming ? { incoming } : {}) }), { logFile: log });
    let exited = false;
    void proc.exited.then(() => (exited = true));
    try {
      const qmp = await Qmp.connect(new MachineSocket(machine, files.qmp), 15_000, () => !exited);
      return { proc, qmp, accel, qemu };
    } catch (e) {
      proc.kill('SIGKILL');
      const said = await tail(ctx, on, log);
      throw new MigrationError(`QEMU for ${w.name} on ${on} did not start: ${(e as Error).message}${said ? ` (${said})` : ''}`);
    }
  }

  async start(ctx: DriverContext, on: string): Promise<WorkloadRecord> {
    ctx.onProgress?.({ phase: 'boot', detail: `${ctx.workload.name} on ${on}` });
    // The console log is appended to: read only what this QEMU writes.
    const machine = ctx.lab.machine(on);
    const serial = vmFiles(ctx.dirOn(on), on).serial;
    const consoleLog = () => machine.read(serial).catch(() => '');
    const offset = (await consoleLog()).length;
    const { proc, qmp, accel } = await this.spawnQemu(ctx, on);
    qmp.close();
    let exited = false;
    void proc.exited.then(() => (exited = true));
    for (const deadline = Date.now() + BOOT_TIMEOUT_MS; ; await sleep(50)) {
      const text = (await consoleLog()).slice(offset);
      if (text.includes('warplab-guest: ready')) break;
      if (ctx.signal?.aborted) throw new Interrupted(`interrupted while ${ctx.workload.name} was booting`);
      if (exited) throw new MigrationError(`QEMU for ${ctx.workload.name} on ${on} exited while booting; see ${ctx.dirOn(on)} on ${machine.where}`);
      if (/warplab-guest: (error|failed)/.test(text) || Date.now() > deadline) {
        proc.kill('SIGKILL');
        const last = text.trim().split('\n').slice(-3).join(' | ');
        throw new ReadinessTimeout(`${ctx.workload.name} on ${on} did not report ready within ${BOOT_TIMEOUT_MS / 1000} s (${accel}); last console lines: ${last || '(none)'}`);
      }
    }
    return { on, pid: await (proc.started ?? proc.pid), details: { accel } };
  }

  async prepare(ctx: DriverContext, _from: WorkloadRecord, to: string): Promise<Prepared> {
    const addr = migrationAddress(ctx.lab.topology, to);
    if (!addr) throw new MigrationError(`${to} has no address on the migration network ${ctx.lab.topology.migration?.network}`);
    const uri = `tcp:${addr}:${MIGRATION_PORT}`;
    ctx.onProgress?.({ phase: 'prepare', detail: `QEMU -incoming ${uri} on ${to}` });
    const { proc, qmp, accel, qemu } = await this.spawnQemu(ctx, to, uri);
    const prepared: QemuPrepared = {
      to,
      proc,
      qmp,
      uri,
      accel,
      qemu,
      cancel: async () => {
        qmp.close();
        proc.kill('SIGKILL');
        await Promise.race([proc.exited, sleep(3000)]);
      },
    };
    return prepared;
  }

  async migrate(ctx: DriverContext, from: WorkloadRecord, p: Prepared): Promise<DriverResult> {
    const dest = p as QemuPrepared;
    const { workload: w } = ctx;
    const src = await Qmp.connect(new MachineSocket(ctx.lab.machine(from.on), vmFiles(ctx.dirOn(from.on), from.on).qmp), 5000);
    let destGone: number | null | undefined;
    void dest.proc.exited.then((c) => (destGone = c));
    try {
      await src.execute('migrate-set-parameters', {
        'downtime-limit': w.vm.downtimeLimitMs,
        'max-bandwidth': Math.round(w.vm.maxBandwidthMbps * 1024 * 1024) || 0x7fffffffffff,
      });
      ctx.events.record('migration-started', 'qemu', `${w.name}: ${from.on} → ${dest.to}`);
      await src.execute('migrate', { uri: dest.uri });
      const info = await this.follow(ctx, src, () => destGone);
      const resumed = await dest.qmp.waitEvent((e) => e.event === 'RESUME', 10_000);
      if (!resumed) throw new MigrationError(`the destination QEMU on ${dest.to} did not resume within 10 s`);
      // QEMU stamps its events with its own machine's clock.
      const stopEvent = src.events.find((e) => e.event === 'STOP');
      const stopped = stopEvent && ctx.lab.onOrchestratorClock(from.on, stopEvent.atMs);
      const resumedMs = ctx.lab.onOrchestratorClock(dest.to, resumed.atMs);
      if (stopped !== undefined) ctx.events.add({ atMs: stopped, kind: 'source-stopped', source: `qemu@${from.on}` });
      ctx.events.add({ atMs: resumedMs, kind: 'destination-resumed', source: `qemu@${dest.to}` });
      await src.execute('quit').catch(() => {}); // the socket closes as QEMU exits
      dest.qmp.close();
      await endThrough(ctx.lab.shell(from.on), from.pid, ctx.lab.mark, 5000);
      return {
        placement: { on: dest.to, pid: await (dest.proc.started ?? dest.proc.pid), details: { accel: dest.accel } },
        figures: {
          accel: dest.accel,
          qemu: dest.qemu,
          downtimeMs: info.downtime ?? NaN,
          totalTimeMs: info['total-time'] ?? NaN,
          setupTimeMs: info['setup-time'] ?? NaN,
          transferredBytes: info.ram?.transferred ?? NaN,
          stopToResumeMs: stopped !== undefined ? resumedMs - stopped : NaN,
        },
      };
    } catch (e) {
      await this.keepSource(src, dest);
      if (ctx.signal?.aborted) throw new Interrupted(`migration of ${w.name} from ${from.on} to ${dest.to} cancelled; ${w.name} still runs on ${from.on}`);
      throw new MigrationError(`migration of ${w.name} from ${from.on} to ${dest.to} failed: ${(e as Error).message}; ${w.name} still runs on ${from.on}`);
    } finally {
      src.close();
    }
  }

  /** Through the control channel of the QEMU on `at.on` (the guest's end stays open across a move). */
  shell(ctx: DriverContext, at: WorkloadRecord, where: string): Shell {
    return new VmShell(where, new MachineSocket(ctx.lab.machine(at.on), vmFiles(ctx.dirOn(at.on), at.on).ctl));
  }

  /** Polls query-migrate until completed; cancels on abort; fails if the destination dies. */
  private async follow(ctx: DriverContext, src: Qmp, destGone: () => number | null | undefined): Promise<Record<string, any>> {
    let cancelled = false;
    for (;;) {
      const info = await src.execute<Record<string, any>>('query-migrate');
      // query-migrate may briefly say completed with zero times (seen with QEMU 7.2): query again.
      if (info.status === 'completed' && info['total-time'] > 0) return info;
      if (info.status === 'failed') throw new MigrationError(`QEMU: ${info['error-desc'] ?? 'migration failed'}` + (destGone() !== undefined ? ' (the destination QEMU exited)' : ''));
      if (info.status === 'cancelled') throw new MigrationError('cancelled');
      if (ctx.signal?.aborted && !cancelled) {
        cancelled = true;
        await src.execute('migrate_cancel');
      }
      if (destGone() !== undefined && info.status !== 'completed' && !cancelled) {
        cancelled = true;
        await src.execute('migrate_cancel').catch(() => {});
      }
      const ram = info.ram as Record<string, number> | undefined;
      if (ram?.total) ctx.onProgress?.({ phase: 'migrate', detail: info.status, fraction: Math.min(1, ram.transferred / ram.total) });
      await sleep(10);
    }
  }

  /** After a failed move: the source runs again, the destination is gone. */
  private async keepSource(src: Qmp, dest: QemuPrepared): Promise<void> {
    await dest.cancel();
    const status = await src.execute<{ status: string }>('query-status').catch(() => undefined);
    if (status && status.status !== 'running') await src.execute('cont').catch(() => {});
  }
}
