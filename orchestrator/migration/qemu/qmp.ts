// A QMP client (QEMU Machine Protocol: JSON over a unix socket). Commands are answered in
// order; events carry QEMU's own host-clock timestamps, which the migration timeline uses.
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { MigrationError } from '../../errors.js';
import type { MachineSocket } from '../../lab/machine.js';

export interface QmpEvent {
  event: string;
  data?: Record<string, any>;
  /** QEMU's timestamp, CLOCK_REALTIME epoch ms. */
  atMs: number;
}

interface Pending {
  resolve(v: any): void;
  reject(e: Error): void;
  command: string;
}

export class Qmp {
  readonly events: QmpEvent[] = [];
  private readonly pending: Pending[] = [];
  private readonly waiters: { match: (e: QmpEvent) => boolean; resolve: (e: QmpEvent) => void }[] = [];
  private buf = '';
  private closedWith?: Error;

  private constructor(private readonly sock: Duplex, readonly path: string) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => this.onData(d));
    sock.on('close', () => this.fail(new MigrationError(`QMP connection ${path} closed (QEMU exited?)`)));
    sock.on('error', (e) => this.fail(new MigrationError(`QMP ${path}: ${e.message}`)));
  }

  /** Connects (retrying while QEMU creates the socket) and negotiates capabilities. */
  static async connect(socket: MachineSocket, timeoutMs = 10_000, alive: () => boolean = () => true): Promise<Qmp> {
    const deadline = Date.now() + timeoutMs;
    const path = socket.where;
    for (;;) {
      try {
        const qmp = new Qmp(await socket.connect(), path);
        await qmp.execute('qmp_capabilities');
        return qmp;
      } catch (e) {
        if (!alive()) throw new MigrationError(`QEMU exited before its QMP socket ${path} answered`);
        if (Date.now() > deadline) throw new MigrationError(`QMP socket ${path} did not answer within ${timeoutMs} ms: ${(e as Error).message}`);
        await sleep(20);
      }
    }
  }

  execute<T = any>(command: string, args?: Record<string, unknown>): Promise<T> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ resolve, reject, command });
      this.sock.write(JSON.stringify(args ? { execute: command, arguments: args } : { execute: command }) + '\n');
    });
  }

  /** Resolves with the first event (already seen or future) that matches. */
  waitEvent(match: (e: QmpEvent) => boolean, timeoutMs: number): Promise<QmpEvent | undefined> {
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const w = { match, resolve: (e: QmpEvent | undefined) => resolve(e) };
      this.waiters.push(w as any);
      setTimeout(() => {
        const i = this.waiters.indexOf(w as any);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(undefined);
      }, timeoutMs).unref();
    });
  }

  close(): void {
    this.sock.destroy();
  }

  private onData(d: string): void {
    this.buf += d;
    for (let nl = this.buf.indexOf('\n'); nl >= 0; nl = this.buf.indexOf('\n')) {
      const line = this.buf.slice(0, nl).trim();
      this.buf = this.buf.slice(nl + 1);
      if (!line) continue;
      const msg = JSON.parse(line) as Record<string, any>;
      if (msg.QMP) continue; // greeting
      if (msg.event) {
        const e: QmpEvent = { event: msg.event, ...(msg.data ? { data: msg.data } : {}), atMs: msg.timestamp.seconds * 1000 + msg.timestamp.microseconds / 1000 };
        this.events.push(e);
        for (const w of this.waiters.filter((x) => x.match(e))) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(e);
        }
        continue;
      }
      const p = this.pending.shift();
      if (!p) continue;
      if (msg.error) p.reject(new MigrationError(`QMP ${p.command}: ${msg.error.desc}`));
      else p.resolve(msg.return);
    }
  }

  private fail(e: Error): void {
    this.closedWith ??= e;
    for (const p of this.pending.splice(0)) p.reject(e);
  }
}
