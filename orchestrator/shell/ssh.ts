// Commands on another machine over SSH (ssh2): the foundation of labs that span several
// machines. One connection per host, opened when first needed; channels capped below
// sshd's MaxSessions (10 in OpenSSH), so parallel steps queue instead of failing; host keys
// checked against known_hosts or a pinned fingerprint, never trusted on first sight; keys
// from a file or an agent, never a password.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, type ClientChannel, type ConnectConfig, type SFTPWrapper } from 'ssh2';
import { ExecError, Interrupted, SubstrateError } from '../errors.js';
import { shQuote, type BackgroundProcess, type ExecOptions, type ExecResult, type Shell, type SpawnOptions } from './shell.js';

export interface SshHost {
  /** Used in errors and logs. */
  name: string;
  address: string;
  /** Default 22. */
  port?: number;
  /** Default root. */
  user?: string;
  /** A private key file (without a passphrase). */
  keyFile?: string;
  /** An ssh-agent's socket; without it and without keyFile, $SSH_AUTH_SOCK's. */
  agent?: string;
  /** An OpenSSH known_hosts file; default ~/.ssh/known_hosts. */
  knownHosts?: string;
  /** The host key pinned as `ssh-keygen -lf` prints it (`SHA256:…`); known_hosts is then not read. */
  fingerprint?: string;
}

/** Below OpenSSH's MaxSessions (10): a little room for an interactive `ssh` to the same host. */
export const MAX_CHANNELS = 8;
const POLL_MS = 200;
/** Channel refusals taken as "not yet" (25, 50 … 400 ms apart) before one counts. */
const OPEN_RETRIES = 5;

// ---- host keys ----

/** A key's fingerprint as `ssh-keygen -lf` prints it. */
export function fingerprintOf(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The key type inside an SSH public key blob (its first string). */
function keyType(key: Buffer): string {
  return key.subarray(4, 4 + key.readUInt32BE(0)).toString();
}

/** How known_hosts names a host: `[address]:port` unless the port is 22. */
export function knownHostsName(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

/** One host pattern of a known_hosts line: a plain name or a hashed `|1|salt|hash` one. */
function nameMatches(pattern: string, name: string): boolean {
  if (!pattern.startsWith('|1|')) return pattern === name;
  const [salt = '', hash] = pattern.slice(3).split('|');
  return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
}

/**
 * What a known_hosts file says about `key` for host `name`. Exact names only (no wildcards
 * or negations); lines with a marker (@cert-authority, @revoked) are skipped: no
 * certificates here.
 */
export function knownHostsVerdict(text: string, name: string, key: Buffer): 'known' | 'changed' | 'unknown' {
  const blob = key.toString('base64');
  let verdict: 'changed' | 'unknown' = 'unknown';
  for (const line of text.split('\n')) {
    const [hosts = '', , keyBlob] = line.trim().split(/\s+/);
    if (!hosts || hosts.startsWith('#') || hosts.startsWith('@')) continue;
    if (!hosts.split(',').some((p) => nameMatches(p, name))) continue;
    if (keyBlob === blob) return 'known';
    verdict = 'changed';
  }
  return verdict;
}

function readOrEmpty(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Why `key` is refused for `host`, or undefined when it is the host's. */
export function hostKeyProblem(host: SshHost, key: Buffer): string | undefined {
  const port = host.port ?? 22;
  const offered = fingerprintOf(key);
  const who = `${host.name} (${host.address} port ${port}) offered host key ${offered} (${keyType(key)})`;
  const accept = `if this is the host's key (compare with \`ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub\` on it), accept it with \`ssh-keyscan -p ${port} ${host.address} >> ~/.ssh/known_hosts\` or pin it in the host's settings: \`fingerprint: ${offered}\``;
  if (host.fingerprint) return host.fingerprint === offered ? undefined : `${who}, but ${host.fingerprint} is pinned; refused. If the host's key changed on purpose, pin the new one: \`fingerprint: ${offered}\``;
  const file = host.knownHosts ?? join(homedir(), '.ssh', 'known_hosts');
  const name = knownHostsName(host.address, port);
  switch (knownHostsVerdict(readOrEmpty(file), name, key)) {
    case 'known':
      return undefined;
    case 'changed':
      return `${who}, which differs from the one ${file} has for ${name}; refused (was the host reinstalled, or is someone in between?). If it changed on purpose: \`ssh-keygen -R '${name}' -f ${file}\`, then ${accept}`;
    case 'unknown':
      return `${who}, which ${file} does not know; refused. ${accept[0]!.toUpperCase()}${accept.slice(1)}`;
  }
}

/** Key file or agent; never a password. */
function authOf(host: SshHost): Pick<ConnectConfig, 'privateKey' | 'agent'> {
  if (host.keyFile) return { privateKey: readFileSync(host.keyFile), ...(host.agent ? { agent: host.agent } : {}) };
  const agent = host.agent ?? process.env.SSH_AUTH_SOCK;
  if (!agent) throw new SubstrateError(`no key to log in to ${host.name}: give it a keyFile, or run an ssh-agent (SSH_AUTH_SOCK is not set); passwords are never used`);
  return { agent };
}

// ---- the connection ----

/** At most `n` at a time; the rest wait in order. */
class Slots {
  private readonly waiting: (() => void)[] = [];
  constructor(private free: number) {}
  async use<T>(f: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiting.push(r));
    try {
      return await f();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** How a command line ended on the host. */
export interface Outcome {
  /** null: ended by a signal, or its channel closed without an exit status. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Set when warplab ended it. */
  cut?: 'timeout' | 'abort';
}

/**
 * A command that may have to be ended tells its PID first, on stderr, and then becomes the
 * command (exec): OpenSSH refuses signal requests for root's sessions ("session signalling
 * requires privilege separation"), so warplab kills its process group itself.
 */
const tellingPid = (command: string) => `echo $$ >&2; exec ${command}`;

/** Splits the PID line that `tellingPid` put first on stderr from the command's own. */
function splitPid(stderr: string): [number | undefined, string] {
  const nl = stderr.indexOf('\n');
  return nl < 0 ? [undefined, stderr] : [Number(stderr.slice(0, nl)) || undefined, stderr.slice(nl + 1)];
}

/**
 * Collects a channel's output until it closes, or until a timeout or an abort: then the
 * channel is closed and the answer given at once, with the PID to kill.
 */
function collect(ch: ClientChannel, o: RunOptions, withPid: boolean): Promise<Outcome & { pid?: number }> {
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let code: number | null = null;
    const finish = (cut?: Outcome['cut']) => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', abort);
      const [pid, stderr] = withPid ? splitPid(Buffer.concat(err).toString()) : [undefined, Buffer.concat(err).toString()];
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr, ...(cut ? { cut, pid } : {}) });
      if (cut) ch.close();
    };
    const timer = o.timeoutMs ? setTimeout(() => finish('timeout'), o.timeoutMs) : undefined;
    const abort = () => finish('abort');
    o.signal?.addEventListener('abort', abort, { once: true });
    ch.on('data', (b: Buffer) => out.push(b));
    ch.stderr.on('data', (b: Buffer) => err.push(b));
    ch.on('exit', (c: number | null) => (code = typeof c === 'number' ? c : null));
    ch.on('close', () => finish());
    ch.on('error', () => {}); // a write after the command exited: its output still counts
    ch.end(o.input ?? '');
    if (o.signal?.aborted) abort();
  });
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (b) => h.update(b))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });
}

/** Where an attached command's streams go (see SshConnection.attach). */
export interface AttachedIo {
  stdin?: NodeJS.ReadableStream & { unpipe(d: NodeJS.WritableStream): { pause(): void } };
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  /** End stdout and stderr when the command ends, as a pipe would (not for this process's own). */
  end?: boolean;
}

export interface ConnectionOptions {
  /** Default MAX_CHANNELS. */
  maxChannels?: number;
  /**
   * The byte stream to the host's sshd when it is not a TCP connection from here to
   * address:port (a test rig's unix socket into its namespace). Host keys are still checked
   * for address:port.
   */
  dial?: () => Duplex;
}

/** One ssh2 connection to a host, opened on first use and again (once per channel) after it dropped. */
export class SshConnection {
  private client?: Promise<Client>;
  private closed = false;
  private readonly slots: Slots;
  /** Unix sockets on the host whose connections come here (`serveSocket`), by path. */
  private readonly served = new Map<string, (c: Duplex) => void>();
  /** Commands of the connection's own (hash checks, polls): no prefix, no environment. */
  private readonly plain: SshShell;

  constructor(
    readonly host: SshHost,
    private readonly opts: ConnectionOptions = {},
  ) {
    this.slots = new Slots(opts.maxChannels ?? MAX_CHANNELS);
    this.plain = new SshShell(this, host.name);
  }

  /**
   * Runs one command line through the user's login shell on the host. With a timeout or a
   * signal it must be one simple command: it is exec'd, so that its process group can be
   * killed when it is cut short.
   */
  async run(command: string, o: RunOptions = {}): Promise<Outcome> {
    const killable = o.timeoutMs !== undefined || o.signal !== undefined;
    const { pid, ...outcome } = await this.slots.use(() =>
      this.channel<ClientChannel, Promise<Outcome & { pid?: number }>>(
        (c, cb) => c.exec(killable ? tellingPid(command) : command, cb),
        (ch) => collect(ch, o, killable),
      ),
    );
    if (pid) await this.run(`kill -s KILL -- -${pid}`).catch(() => {}); // gone meanwhile: nothing to do
    return outcome;
  }

  /**
   * Copies a file to the host unless the same content is there already (sha256), to a
   * temporary name first, then moved over the target: a reader never sees half a file.
   * Keeps the file's mode. Says whether it was sent.
   */
  async upload(localPath: string, remotePath: string): Promise<boolean> {
    const mode = (statSync(localPath).mode & 0o7777).toString(8);
    const [local, there] = await Promise.all([
      sha256File(localPath),
      this.plain.exec(['sh', '-c', 'mkdir -p -- "$1" && { sha256sum -- "$2" 2>/dev/null || true; }', 'sh', dirname(remotePath), remotePath]),
    ]);
    if (there.stdout.split(' ')[0] === local) return false;
    const tmp = `${remotePath}.warplab-${randomBytes(4).toString('hex')}`;
    await this.slots.use(() => this.channel<SFTPWrapper, Promise<void>>((c, cb) => c.sftp(cb), (sftp) => this.put(sftp, localPath, tmp)));
    await this.plain.exec(['sh', '-c', 'chmod "$1" -- "$2" && mv -f -- "$2" "$3"', 'sh', mode, tmp, remotePath]);
    return true;
  }

  /**
   * Runs a command with its output streamed to `io` as it comes (and `io.stdin` sent to it):
   * a process warplab watches, as `warplab exec` does. Tells its PID, then its exit code.
   */
  attach(command: string, io: AttachedIo): { pid: Promise<number>; exited: Promise<number | null> } {
    let tellPid!: (p: number) => void;
    let failPid!: (e: Error) => void;
    const pid = new Promise<number>((resolve, reject) => ((tellPid = resolve), (failPid = reject)));
    pid.catch(() => {}); // told through `exited` as well
    const exited = this.slots.use(() =>
      this.channel<ClientChannel, Promise<number | null>>(
        (c, cb) => c.exec(tellingPid(command), cb),
        (ch) =>
          new Promise((resolve) => {
            let code: number | null = null;
            let head: Buffer | undefined = Buffer.alloc(0);
            ch.stderr.on('data', (b: Buffer) => {
              if (!head) return void io.stderr?.write(b);
              head = Buffer.concat([head, b]);
              const nl = head.indexOf('\n');
              if (nl < 0) return;
              tellPid(Number(head.subarray(0, nl).toString()));
              if (head.length > nl + 1) io.stderr?.write(head.subarray(nl + 1));
              head = undefined;
            });
            ch.on('data', (b: Buffer) => io.stdout?.write(b));
            ch.on('exit', (c: number | null) => (code = typeof c === 'number' ? c : null));
            ch.on('error', () => {});
            ch.on('close', () => {
              if (head) failPid(new SubstrateError(`${command} ended on ${this.host.name} before it started`));
              if (io.stdin) io.stdin.unpipe(ch).pause();
              if (io.end) (io.stdout?.end(), io.stderr !== io.stdout && io.stderr?.end());
              resolve(code);
            });
            if (io.stdin) io.stdin.pipe(ch);
            else ch.end();
          }),
      ),
    );
    exited.catch((e: Error) => failPid(e));
    return { pid, exited };
  }

  /**
   * A command that warplab talks to while it runs (a clock ping-pong): `f` gets its channel,
   * which is closed when `f` is done.
   */
  converse<T>(command: string, f: (ch: ClientChannel) => Promise<T>): Promise<T> {
    return this.slots.use(async () => {
      const ch = await this.channel<ClientChannel, ClientChannel>((c, cb) => c.exec(command, cb), (x) => x);
      try {
        return await f(ch);
      } finally {
        ch.end();
        ch.close();
      }
    });
  }

  /**
   * A stream to a unix socket on the host, over the connection (OpenSSH's streamlocal
   * forwarding): nothing listens on the network for it. Not counted against maxChannels:
   * sshd's MaxSessions limits sessions only.
   */
  openSocket(path: string): Promise<Duplex> {
    // A refusal here means no one listens there (yet): the caller decides whether to ask again.
    return this.channel<ClientChannel, ClientChannel>((c, cb) => c.openssh_forwardOutStreamLocal(path, cb), (ch) => ch, false);
  }

  /**
   * A unix socket on the host (OpenSSH's streamlocal forwarding, root-only by sshd's
   * StreamLocalBindMask) whose connections come to `serve` over this connection. The
   * function it gives stops it and removes the socket.
   */
  async serveSocket(path: string, serve: (c: Duplex) => void): Promise<() => Promise<void>> {
    const client = await this.connected();
    this.served.set(path, serve);
    try {
      await new Promise<void>((resolve, reject) => client.openssh_forwardInStreamLocal(path, (e) => (e ? reject(e) : resolve())));
    } catch (e) {
      this.served.delete(path);
      throw new SubstrateError(`cannot serve ${path} on ${this.host.name}: ${(e as Error).message} (does its sshd allow AllowStreamLocalForwarding?)`);
    }
    return async () => {
      this.served.delete(path);
      await new Promise<void>((resolve) => client.openssh_unforwardInStreamLocal(path, () => resolve()));
      await this.run(`rm -f -- ${shQuote(path)}`).catch(() => {}); // sshd leaves the socket file
    };
  }

  close(): void {
    this.closed = true;
    void this.client?.then((c) => c.end(), () => {});
    this.client = undefined;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private put(sftp: SFTPWrapper, localPath: string, remotePath: string): Promise<void> {
    return new Promise<void>((resolve, reject) => sftp.fastPut(localPath, remotePath, (e) => (e ? reject(e) : resolve()))).finally(() => sftp.end());
  }

  /**
   * Opens a channel. When the connection turns out to have dropped, reconnects once. When
   * sshd refuses the channel, asks again a little later: sshd frees a closed session's place
   * only on its next turn, so a channel opened as soon as another closed can find no room
   * ("no more sessions") although never more than maxChannels are open here. `use` gets the
   * channel at once: an exit status that came with the channel's confirmation is an event
   * no one would hear after an await.
   */
  private async channel<T, R>(open: (c: Client, cb: (e: Error | undefined, ch: T) => void) => void, use: (ch: T) => R, retryRefusals = true): Promise<Awaited<R>> {
    let reconnected = false;
    for (let refused = 0; ; ) {
      const current = this.connected();
      const client = await current;
      try {
        return await new Promise<Awaited<R>>((resolve, reject) => open(client, (e, ch) => (e ? reject(e) : resolve(use(ch) as Awaited<R>))));
      } catch (e) {
        if (this.closed) throw e;
        if (!reconnected && (this.client !== current || (e as Error).message === 'Not connected')) {
          reconnected = true;
          if (this.client === current) this.client = undefined;
        } else if (retryRefusals && 'reason' in (e as object) && refused < OPEN_RETRIES) {
          await sleep(25 << refused++);
        } else throw e;
      }
    }
  }

  private connected(): Promise<Client> {
    if (this.closed) return Promise.reject(new SubstrateError(`the connection to ${this.host.name} is closed`));
    return (this.client ??= this.connect());
  }

  private connect(): Promise<Client> {
    const h = this.host;
    const client = new Client();
    let refusal: string | undefined;
    const p = new Promise<Client>((resolve, reject) => {
      client.on('ready', () => {
        client.setNoDelay(true); // Nagle costs ~40 ms per command (FIELD-NOTES)
        resolve(client);
      });
      client.on('error', (e) => reject(new SubstrateError(refusal ?? `cannot connect to ${h.name} (${h.address} port ${h.port ?? 22}): ${e.message}`)));
      client.on('close', () => {
        if (this.client === p) this.client = undefined; // dropped: the next channel reconnects
      });
      client.on('unix connection', (info, accept, refuse) => {
        const serve = this.served.get(info.socketPath);
        if (serve) serve(accept());
        else refuse();
      });
      client.connect({
        host: h.address,
        port: h.port ?? 22,
        username: h.user ?? 'root',
        ...authOf(h),
        ...(this.opts.dial ? { sock: this.opts.dial() } : {}),
        keepaliveInterval: 10_000,
        hostVerifier: (key: Buffer) => {
          refusal = hostKeyProblem(h, key);
          return refusal === undefined;
        },
      });
    });
    return p;
  }
}

// ---- the shell ----

/**
 * One POSIX command line for `argv`: `env K=V … PREFIX… ARGV…`, every word quoted. The host
 * runs it with the user's login shell, which must be a POSIX one.
 */
export function commandLine(argv: readonly string[], prefix: readonly string[], env: Record<string, string>): string {
  const vars = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  return [...(vars.length ? ['env', ...vars] : []), ...prefix, ...argv].map(shQuote).join(' ');
}

/** A background process on an SSH host; `pid` is the host's PID. */
export interface RemoteProcess extends BackgroundProcess {
  /** The host's name: the PID means something only there. */
  readonly host: string;
  /** Resolves with the PID once the host has told it (`pid` is -1 until then). */
  readonly started: Promise<number>;
  /** Its end is known without asking the host: warplab holds its channel (attached). */
  readonly held: boolean;
}

class RemoteProc implements RemoteProcess {
  pid = -1;
  readonly started: Promise<number>;
  private watching?: Promise<number | null>;

  constructor(
    readonly argv: readonly string[],
    private readonly conn: SshConnection,
    launch: Promise<number>,
    /** Known when warplab holds the process's channel (attached); otherwise polled. */
    private readonly ending?: Promise<number | null>,
  ) {
    this.started = launch.then((pid) => (this.pid = pid));
    this.started.catch(() => {}); // told by `started` to whoever awaits it, and by `exited` (null)
    if (ending) this.watching = ending.catch(() => null);
  }

  get host(): string {
    return this.conn.host.name;
  }

  get held(): boolean {
    return this.ending !== undefined;
  }

  /** Watched only once asked for: each poll is a channel. The exit code stays on the host: null. */
  get exited(): Promise<number | null> {
    return (this.watching ??= this.started.then((pid) => this.gone(pid)).then(() => null, () => null));
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    void this.started.then((pid) => this.conn.run(`kill -s ${signal.replace(/^SIG/, '')} ${pid}`)).catch(() => {});
  }

  /** Until the PID runs nothing but a zombie (or nothing), or the connection is closed. */
  private async gone(pid: number): Promise<void> {
    while (!this.conn.isClosed) {
      const o = await this.conn.run(`grep -qv '^[0-9]* (.*) Z ' /proc/${pid}/stat 2>/dev/null`).catch(() => undefined);
      if (o && o.code !== 0) return;
      await sleep(POLL_MS);
    }
  }
}

export class SshShell implements Shell {
  constructor(
    private readonly conn: SshConnection,
    readonly where: string,
    /** Put before every argv on the host, e.g. ['nsenter', '--net=/run/netns/x', '--']. */
    private readonly prefix: readonly string[] = [],
    /** Set on every process started here: the lab's ownership mark. */
    private readonly baseEnv: Record<string, string> = {},
    /** Told about every background process once its PID is known, so the lab can record it. */
    private readonly onSpawn?: (p: BackgroundProcess) => void,
  ) {}

  async exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    if (opts.signal?.aborted) throw new Interrupted(`interrupted before: ${argv.join(' ')}`);
    const started = performance.now();
    const o = await this.conn.run(commandLine(argv, this.prefix, { ...this.baseEnv, ...opts.env }), opts);
    const res: ExecResult = { argv, exitCode: o.code ?? -1, stdout: o.stdout, stderr: o.stderr, durationMs: performance.now() - started };
    if (o.cut === 'abort') throw new Interrupted(`interrupted: ${argv.join(' ')}`);
    if ((o.code !== 0 || o.cut) && opts.check !== false) {
      const why = o.cut === 'timeout' ? `${res.stderr}\n(timed out after ${opts.timeoutMs} ms)` : res.stderr;
      throw new ExecError(argv, this.where, o.code, res.stdout, why, res.durationMs);
    }
    return res;
  }

  /**
   * Starts `argv` in its own session on the host, its output appended to `opts.logFile` there
   * (or discarded); it outlives the connection. The shell's `$!` is its PID: setsid, env and
   * nsenter --net all exec in place. With `inherit`, `stdout` or `stderr` it runs attached
   * instead: its output streams here and it ends with its channel.
   */
  spawn(argv: readonly string[], opts: SpawnOptions = {}): RemoteProcess {
    if (opts.inherit || opts.stdout || opts.stderr) {
      const io = opts.inherit ? { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr } : { ...(opts.stdout ? { stdout: opts.stdout } : {}), ...(opts.stderr ? { stderr: opts.stderr } : {}), end: true };
      const { pid, exited } = this.conn.attach(commandLine(argv, this.prefix, { ...this.baseEnv, ...opts.env }), io);
      const proc = new RemoteProc(argv, this.conn, pid, exited);
      void proc.started.then(() => this.onSpawn?.(proc), () => {});
      return proc;
    }
    const line = commandLine(argv, ['setsid', ...this.prefix], { ...this.baseEnv, ...opts.env });
    const command = `${line} >>${shQuote(opts.logFile ?? '/dev/null')} 2>&1 </dev/null & echo $!`;
    const proc = new RemoteProc(argv, this.conn, this.launch(argv, command));
    void proc.started.then(() => this.onSpawn?.(proc), () => {});
    return proc;
  }

  private async launch(argv: readonly string[], command: string): Promise<number> {
    const started = performance.now();
    const o = await this.conn.run(command);
    const pid = Number(o.stdout.trim());
    if (o.code !== 0 || !Number.isInteger(pid) || pid <= 0) throw new ExecError(argv, this.where, o.code, o.stdout, o.stderr, performance.now() - started);
    return pid;
  }
}
