// A node's machine when it is an SSH host: the lab's directory there, files sent by SFTP
// (content-hashed, so an unchanged agent is not sent again), unix sockets reached through
// OpenSSH's streamlocal forwarding, files read with cat.
import { basename } from 'node:path';
import type { Duplex } from 'node:stream';
import type { NodeMachine } from '../../lab/machine.js';
import type { SshConnection } from '../../shell/ssh.js';
import { SshShell } from '../../shell/ssh.js';
import { SubstrateError } from '../../errors.js';

/**
 * Where a lab keeps its files on a host. Not the state dir's path: the orchestrator's own
 * machine may be one of the hosts.
 */
export function hostLabDir(lab: string): string {
  return `/run/warplab/on-host/${lab}`;
}

export class SshMachine implements NodeMachine {
  private readonly placed = new Map<string, Promise<string>>();

  constructor(
    /** The host's connection now (one that was closed is opened anew). */
    private readonly connection: () => SshConnection,
    readonly labDir: string,
  ) {}

  private get conn(): SshConnection {
    return this.connection();
  }

  get where(): string {
    return `host ${this.conn.host.name}`;
  }

  /** Into the lab directory's files/, by name: the lab's agents have distinct names. */
  place(localPath: string): Promise<string> {
    let p = this.placed.get(localPath);
    if (!p) {
      const there = `${this.labDir}/files/${basename(localPath)}`;
      p = this.conn.upload(localPath, there).then(() => there);
      p.catch(() => this.placed.delete(localPath));
      this.placed.set(localPath, p);
    }
    return p;
  }

  async connect(socketPath: string): Promise<Duplex> {
    try {
      return await this.conn.openSocket(socketPath);
    } catch (e) {
      throw new SubstrateError(`cannot reach ${socketPath} on ${this.where}: ${(e as Error).message}`);
    }
  }

  listen(socketPath: string, serve: (c: Duplex) => void): Promise<() => Promise<void>> {
    return this.conn.serveSocket(socketPath, serve);
  }

  async read(path: string): Promise<string> {
    return (await new SshShell(this.conn, this.where).exec(['cat', '--', path])).stdout;
  }

  async write(path: string, content: string): Promise<void> {
    await new SshShell(this.conn, this.where).exec(['sh', '-c', 'umask 077 && mkdir -p -- "${1%/*}" && cat > "$1"', 'sh', path], { input: content });
  }
}
