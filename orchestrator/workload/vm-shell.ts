// A Shell into a VM guest over its control channel: QEMU's unix socket for the virtio-serial
// port that the guest's ctl-serve keeps open (agents/vm-guest/README.md). One connection per
// command: QEMU serves one client at a time and queues the next, so commands from several
// warplab processes take turns. The guest answers stdout and stderr apart, but only once the
// command has ended; it has no terminal, so there is no spawn.
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Interrupted, LabError } from '../errors.js';
import type { MachineSocket } from '../lab/machine.js';
import type { BackgroundProcess, ExecOptions, ExecResult, Shell } from '../shell/shell.js';
import { answerResult, insideLimitS, type Answer } from './answer.js';
import { decodeResponse, encodeRequest, guestScript, newRequestId } from './ctl-frame.js';

export class VmShell implements Shell {
  constructor(
    readonly where: string,
    /** The control channel's socket of the QEMU that runs the VM now, on its hypervisor's machine. */
    private readonly socket: MachineSocket,
  ) {}

  /** A timeout ends the wait here and, a second later, the command in the guest. */
  async exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const started = performance.now();
    const id = newRequestId();
    const request = encodeRequest({ id, script: guestScript(argv, opts.env), input: opts.input ?? '', timeoutS: insideLimitS(opts.timeoutMs) });
    const answer = await this.converse(argv, request, id, opts.timeoutMs ? Date.now() + opts.timeoutMs : undefined, opts.signal);
    return answerResult(this.where, argv, answer, opts, performance.now() - started);
  }

  spawn(argv: readonly string[]): BackgroundProcess {
    throw new LabError(`cannot start ${argv.join(' ')} in the background on ${this.where}: not supported on a VM workload (its commands answer only when they end); use exec`);
  }

  /** Sends the request; resolves with its response, or undefined when the deadline came first. */
  private async converse(argv: readonly string[], request: Buffer, id: string, deadline: number | undefined, signal: AbortSignal | undefined): Promise<Answer | undefined> {
    const what = argv.join(' ');
    if (signal?.aborted) throw new Interrupted(`interrupted before: ${what}`);
    const sock = await this.connect(deadline);
    if (!sock) return undefined;
    return new Promise<Answer | undefined>((resolve, reject) => {
      let received = Buffer.alloc(0);
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', abort);
        sock.removeAllListeners('close');
        sock.destroy();
        settle();
      };
      const timer = deadline ? setTimeout(() => finish(() => resolve(undefined)), deadline - Date.now()) : undefined;
      const abort = () => finish(() => reject(new Interrupted(`interrupted: ${what} (on ${this.where})`)));
      if (signal?.aborted) return abort();
      signal?.addEventListener('abort', abort, { once: true });
      sock.on('data', (d: Buffer) => {
        received = Buffer.concat([received, d]);
        try {
          const r = decodeResponse(received, id);
          if (r) finish(() => resolve(r));
        } catch (e) {
          finish(() => reject(e));
        }
      });
      sock.on('error', (e) => finish(() => reject(new LabError(`${this.where}: control channel ${this.socket.where}: ${e.message}`))));
      sock.on('close', () => finish(() => reject(new LabError(`${this.where}: the control channel closed before ${what} answered (did the VM's QEMU quit, or the VM move?)`))));
      sock.write(request);
    });
  }

  /** Undefined when QEMU's queue stayed full until the deadline. */
  private async connect(deadline: number | undefined): Promise<Duplex | undefined> {
    for (;;) {
      try {
        return await this.socket.connect();
      } catch (e) {
        // QEMU's queue is full (it holds one client beside the one it serves): wait for our turn.
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') {
          if (deadline && Date.now() >= deadline) return undefined;
          await sleep(20);
          continue;
        }
        throw new LabError(`${this.where}: cannot reach the VM's control channel ${this.socket.where}: ${(e as Error).message} (is its QEMU running, and was it started by a warplab with control channels?)`);
      }
    }
  }
}
