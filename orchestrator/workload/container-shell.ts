// A Shell into a container workload: `docker exec` through the lab's engine. Stdout and
// stderr come back apart once the command has ended. The engine starts a command only
// asynchronously, with no PID to hand back at once, so there is no spawn.
import { Interrupted, LabError } from '../errors.js';
import type { BackgroundProcess, ExecOptions, ExecResult, Shell } from '../shell/shell.js';
import { answerResult, insideLimitS } from './answer.js';
import { execInContainer, type Dockerode } from './docker/index.js';

export class ContainerShell implements Shell {
  constructor(
    readonly where: string,
    private readonly docker: () => Promise<Dockerode>,
    /** The container that runs the workload now. */
    private readonly containerId: string,
  ) {}

  /** A timeout ends the wait here and, a second later, the command in the container. */
  async exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const started = performance.now();
    if (opts.signal?.aborted) throw new Interrupted(`interrupted before: ${argv.join(' ')}`);
    const answer = await execInContainer(await this.docker(), this.containerId, argv, {
      limitS: insideLimitS(opts.timeoutMs),
      ...(opts.input !== undefined ? { input: opts.input } : {}),
      ...(opts.env ? { env: opts.env } : {}),
      ...(opts.timeoutMs ? { deadline: Date.now() + opts.timeoutMs } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    return answerResult(this.where, argv, answer, opts, performance.now() - started);
  }

  spawn(argv: readonly string[]): BackgroundProcess {
    throw new LabError(`cannot start ${argv.join(' ')} in the background on ${this.where}: not supported on a container workload (its engine starts commands asynchronously); use exec`);
  }
}
