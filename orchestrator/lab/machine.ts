// The machine a node runs on, as code above the Shell sees it: where the lab keeps files
// there, how one of the orchestrator's files gets there, how a unix socket there is reached,
// how a file there is read. On one machine these are plain file and socket calls; on an SSH
// host, SFTP, an OpenSSH-forwarded socket and cat (substrate/ssh/machine.ts).
import { readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
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
  /** A text file's content on that machine. */
  read(path: string): Promise<string>;
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

  place(localPath: string): Promise<string> {
    return Promise.resolve(localPath);
  }

  connect(socketPath: string): Promise<Duplex> {
    return connectUnix(socketPath);
  }

  read(path: string): Promise<string> {
    return Promise.resolve(readFileSync(path, 'utf8'));
  }
}
