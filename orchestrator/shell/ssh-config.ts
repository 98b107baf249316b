// The part of OpenSSH's client configuration (ssh_config(5)) that decides how warplab reaches
// a host: HostName, Port, User, IdentityFile, IdentityAgent, UserKnownHostsFile and
// ProxyCommand (a bastion, or a test rig's socket). Read as `ssh` reads it: the first value
// obtained for a keyword wins, Host patterns with * ? and !negation. Match blocks and Include
// are not followed; they are named in the error, never silently skipped.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { SubstrateError } from '../errors.js';

export interface SshConfigEntry {
  hostName?: string;
  port?: number;
  user?: string;
  identityFile?: string;
  identityAgent?: string;
  userKnownHostsFile?: string;
  proxyCommand?: string;
}

const KEYS: Record<string, keyof SshConfigEntry> = {
  hostname: 'hostName',
  port: 'port',
  user: 'user',
  identityfile: 'identityFile',
  identityagent: 'identityAgent',
  userknownhostsfile: 'userKnownHostsFile',
  proxycommand: 'proxyCommand',
};

/** The file read: WARPLAB_SSH_CONFIG, else ~/.ssh/config when it exists. */
export function defaultSshConfigFile(): string | undefined {
  const own = process.env.WARPLAB_SSH_CONFIG;
  if (own) return own;
  const home = join(homedir(), '.ssh', 'config');
  return existsSync(home) ? home : undefined;
}

function globMatches(pattern: string, name: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(name);
}

/** A Host line's patterns: a negated match excludes the block whatever else matches. */
export function hostMatches(patterns: string[], name: string): boolean {
  if (patterns.some((p) => p.startsWith('!') && globMatches(p.slice(1), name))) return false;
  return patterns.some((p) => !p.startsWith('!') && globMatches(p, name));
}

const tilde = (path: string) => (path.startsWith('~/') ? join(homedir(), path.slice(2)) : path);

/** What `text` says for host `name`; `file` names it in errors. */
export function sshConfigFor(text: string, name: string, file: string): SshConfigEntry {
  const entry: SshConfigEntry = {};
  let applies = true; // lines before the first Host apply to every host
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const m = /^(\S+?)(?:\s*=\s*|\s+)(.*)$/.exec(line);
    if (!m) return;
    const key = m[1]!.toLowerCase();
    const value = m[2]!.replace(/^"(.*)"$/, '$1');
    if (key === 'host') return void (applies = hostMatches(value.split(/\s+/), name));
    if (key === 'match' || key === 'include') throw new SubstrateError(`${file}:${i + 1}: warplab does not follow ${m[1]} in an SSH client configuration; give the host a plain Host block`);
    const field = KEYS[key];
    if (!applies || !field || entry[field] !== undefined) return;
    if (field === 'port') {
      const port = Number(value);
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new SubstrateError(`${file}:${i + 1}: Port ${value} is not a port`);
      entry.port = port;
    } else if (field === 'proxyCommand') {
      if (value.toLowerCase() !== 'none') entry.proxyCommand = value;
    } else entry[field] = field === 'identityFile' || field === 'identityAgent' || field === 'userKnownHostsFile' ? tilde(value) : value;
  });
  return entry;
}

export function readSshConfig(file: string, name: string): SshConfigEntry {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SubstrateError(`cannot read the SSH client configuration ${file}: ${(e as Error).message}`);
  }
  return sshConfigFor(text, name, file);
}

/** ProxyCommand's tokens, as ssh expands them: %h host, %p port, %r user, %% a percent sign. */
export function expandProxyCommand(command: string, host: string, port: number, user: string): string {
  return command.replace(/%([hpr%])/g, (_, t: string) => ({ h: host, p: String(port), r: user, '%': '%' })[t]!);
}

/** The byte stream through a ProxyCommand: its stdin and stdout; its stderr joins warplab's. */
export function proxyStream(command: string): Duplex {
  const child = spawn('sh', ['-c', command], { stdio: ['pipe', 'pipe', 'inherit'] });
  const stream = Duplex.from({ readable: child.stdout, writable: child.stdin });
  // When ssh2 is done with the stream, so is the proxy.
  stream.once('close', () => child.kill());
  child.once('error', (e) => stream.destroy(e));
  return stream;
}
