// The machine a node runs on, as code above the Shell sees it: where the lab keeps files
// there, how one of the orchestrator's files gets there, how a unix socket there is reached
// or served, how a file there is read. On one machine these are plain file and socket
// calls; on an SSH host, SFTP, OpenSSH-forwarded sockets and cat (substrate/ssh/machine.ts).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createConnection, createServer } from 'node:net';
import type { Duplex } from 'node:stream';

export interface NodeMachine {
  /** For messages: `this machine`, `host pdc`. */
  readonly where: string;
  /** The lab directory on that machine (root-only); `down` removes it. */
  readonly labDir: string;
  /** One of the orchestrator's files (an agent's binary), on that machine: its path there. */
  place(localPath: string): Promise<string>;
  /** A byte stream to a unix socket on that machine, once connected. */
  connect(socketPath: string): Promise<Duplex>;
  /**
   * A unix socket on that machine whose connections `serve` gets here; nothing listens on
   * the network. Resolves once it accepts; the function it gives closes it.
   */
  listen(socketPath: string, serve: (c: Duplex) => void): Promise<() => Promise<void>>;
  /** A text file's content on that machine. */
  read(path: string): Promise<string>;
  /** Writes a text file there (root-only), making its folder. */
  write(path: string, content: string): Promise<void>;
}

/** A workload's folder in the lab directory of a machine (its QEMU's sockets and logs there). */
export function workloadDir(m: NodeMachine, workload: string): string {
  return `${m.labDir}/workloads/${workload}`;
}

/** A unix socket on this machine, once connected. */
export function connectUnix(socketPath: string): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const c = createConnection(socketPath);
    c.once('connect', () => (c.off('error', reject), resolve(c)));
    c.once('error', reject);
  });
}

export class LocalMachine implements NodeMachine {
  readonly where = 'this machine';
  constructor(readonly labDir: string) {}

  async place(localPath: string): Promise<string> {
    return localPath;
  }

  connect(socketPath: string): Promise<Duplex> {
    return connectUnix(socketPath);
  }

  listen(socketPath: string, serve: (c: Duplex) => void): Promise<() => Promise<void>> {
    const server = createServer(serve);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve(() => new Promise<void>((done) => server.close(() => (rmSync(socketPath, { force: true }), done()))));
      });
    });
  }

  async read(path: string): Promise<string> {
    return readFileSync(path, 'utf8');
  }

  async write(path: string, content: string): Promise<void> {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content, { mode: 0o600 });
  }
}

/** A unix socket on some node's machine (a translator agent's, QMP, a VM's control channel). */
export class MachineSocket {
  constructor(
    readonly machine: NodeMachine,
    readonly path: string,
  ) {}

  /** For messages. */
  get where(): string {
    return this.machine.where === 'this machine' ? this.path : `${this.path} on ${this.machine.where}`;
  }

  connect(): Promise<Duplex> {
    return this.machine.connect(this.path);
  }

  /**
   * Its path as a process on `from` reaches it: the path itself on the same machine;
   * otherwise a relay socket at `relayPath` on `from`, each connection carried here and on
   * to this socket (SSH channels both ways, no network listener). `close` ends the relay.
   */
  async reachedFrom(from: NodeMachine, relayPath: string): Promise<{ path: string; close(): Promise<void> }> {
    if (from.where === this.machine.where) return { path: this.path, close: async () => {} };
    const close = await from.listen(relayPath, (c) => {
      c.on('error', () => c.destroy());
      this.connect().then(
        (t) => {
          t.on('error', () => c.destroy());
          c.on('close', () => t.destroy());
          t.on('close', () => c.destroy());
          c.pipe(t).pipe(c);
        },
        () => c.destroy(),
      );
    });
    return { path: relayPath, close };
  }
}
