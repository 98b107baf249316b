// A command in a running container through its engine (`docker exec`): in all of the
// container's namespaces and its cgroup, with its environment, wherever it was restored.
import { PassThrough } from 'node:stream';
import { Interrupted } from '../../errors.js';
import type { Answer } from '../answer.js';
import { dockerMessage, type DockerExec, type Dockerode } from './dockerode.js';
import { DockerEngineError } from './errors.js';

interface ContainerExecOptions {
  input?: string;
  env?: Record<string, string>;
  /** Killed (SIGKILL) by busybox `timeout` inside the container after this many seconds; 0: never. */
  limitS: number;
  /** The answer is undefined when this passes first (the command's limit ends it later). */
  deadline?: number;
  signal?: AbortSignal;
}

/**
 * The image links only a few applets; its busybox sh runs any of them by name (standalone
 * shell), so the command goes through it, and under `timeout` when it has a limit.
 */
function containerCmd(argv: readonly string[], limitS: number): string[] {
  return [...(limitS ? ['/bin/busybox', 'timeout', '-s', 'KILL', String(limitS)] : []), '/bin/sh', '-c', 'exec "$@"', 'sh', ...argv];
}

/** Runs argv in the container; stdout and stderr come back apart. */
export async function execInContainer(docker: Dockerode, containerId: string, argv: readonly string[], o: ContainerExecOptions): Promise<Answer | undefined> {
  let stream: NodeJS.ReadWriteStream;
  let exec: DockerExec;
  try {
    exec = await docker.getContainer(containerId).exec({
      Cmd: containerCmd(argv, o.limitS),
      Env: Object.entries(o.env ?? {}).map(([k, v]) => `${k}=${v}`),
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
    });
    stream = await exec.start({ hijack: true, stdin: true });
  } catch (e) {
    throw new DockerEngineError(`cannot exec in container ${containerId.slice(0, 12)}: ${dockerMessage(e)}`);
  }
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough().on('data', (b: Buffer) => out.push(b));
  const stderr = new PassThrough().on('data', (b: Buffer) => err.push(b));
  docker.modem.demuxStream(stream, stdout, stderr);
  const ended = await new Promise<boolean>((resolve, reject) => {
    const stop = (settle: () => void) => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', abort);
      settle();
    };
    const timer = o.deadline ? setTimeout(() => stop(() => resolve(false)), o.deadline - Date.now()) : undefined;
    const abort = () => stop(() => reject(new Interrupted(`interrupted: ${argv.join(' ')}`)));
    if (o.signal?.aborted) return abort();
    o.signal?.addEventListener('abort', abort, { once: true });
    stream.on('end', () => stop(() => resolve(true)));
    stream.on('error', (e: Error) => stop(() => reject(new DockerEngineError(`exec in container ${containerId.slice(0, 12)}: ${e.message}`))));
    // Its end is the command's end of input.
    stream.end(o.input ?? '');
  });
  (stream as unknown as { destroy(): void }).destroy();
  if (!ended) return undefined;
  // The stream ends as the command exits; the engine may take a moment to record its status.
  for (let i = 0; ; i++) {
    const info = await exec.inspect();
    if (!info.Running && info.ExitCode !== null) return { exitCode: info.ExitCode, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
    if (i === 50) throw new DockerEngineError(`exec in container ${containerId.slice(0, 12)}: its output ended, but the engine still says it runs`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
