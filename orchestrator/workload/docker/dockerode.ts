// The part of dockerode warplab uses, typed here: package.json has no @types/dockerode,
// and those types lack the checkpoint calls anyway (dockerode 5 has them at run time).
import { createRequire } from 'node:module';

export interface ContainerSummary {
  Id: string;
  Names: string[];
  State: string;
  Labels: Record<string, string>;
}

export interface ContainerInfo {
  Id: string;
  Name: string;
  State: { Status: string; Running: boolean; Pid: number; ExitCode: number; Error: string };
  Config: { Image: string; Env: string[] | null; Labels: Record<string, string> | null };
  HostConfig: { NetworkMode: string };
}

export interface ImageInfo {
  Id: string;
  Config: { Labels: Record<string, string> | null } | null;
}

export interface CreateContainerOptions {
  name?: string;
  Hostname?: string;
  Image: string;
  Cmd?: string[];
  Env?: string[];
  Labels?: Record<string, string>;
  /** With OpenStdin, keeps an image whose command is a shell running (as containerlab does). */
  Tty?: boolean;
  OpenStdin?: boolean;
  HostConfig?: { NetworkMode?: string; AutoRemove?: boolean; Binds?: string[]; CapAdd?: string[]; MaskedPaths?: string[]; ReadonlyPaths?: string[] };
}

export interface CheckpointCreateOptions {
  CheckpointID: string;
  /** Stop the container after the dump (what a migration wants). */
  Exit?: boolean;
  CheckpointDir?: string;
}

export interface ExecCreateOptions {
  Cmd: string[];
  Env?: string[];
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
}

export interface DockerExec {
  /** With `hijack`, the connection itself: stdin written to it, stdout and stderr multiplexed back (demuxStream). */
  start(opts: { hijack: true; stdin: boolean }): Promise<NodeJS.ReadWriteStream>;
  inspect(): Promise<{ Running: boolean; ExitCode: number | null }>;
}

export interface DockerContainer {
  readonly id: string;
  inspect(): Promise<ContainerInfo>;
  /** `start({_query: {checkpoint: NAME}, _body: {}})` restores: `start({checkpoint})` is a 400. */
  start(opts?: { _query?: Record<string, string>; _body?: object }): Promise<unknown>;
  remove(opts?: { force?: boolean; v?: boolean }): Promise<unknown>;
  /** Not a TTY: frames carry 8-byte headers, the text stays searchable. */
  logs(opts: { stdout?: boolean; stderr?: boolean }): Promise<Buffer>;
  createCheckpoint(opts: CheckpointCreateOptions): Promise<unknown>;
  listCheckpoint(opts?: object): Promise<{ Name: string }[] | null>;
  deleteCheckpoint(name: string, opts?: object): Promise<unknown>;
  exec(opts: ExecCreateOptions): Promise<DockerExec>;
}

export interface DockerImage {
  inspect(): Promise<ImageInfo>;
}

export interface Dockerode {
  ping(opts?: { abortSignal?: AbortSignal }): Promise<unknown>;
  listContainers(opts?: { all?: boolean; filters?: Record<string, string[]> }): Promise<ContainerSummary[]>;
  createContainer(opts: CreateContainerOptions): Promise<DockerContainer>;
  getContainer(id: string): DockerContainer;
  getImage(name: string): DockerImage;
  /** POST /images/create?fromSrc=-: the answer is a progress stream to drain. */
  importImage(file: string, opts: { repo: string; tag: string; changes?: string[] }): Promise<NodeJS.ReadableStream>;
  modem: {
    followProgress(stream: NodeJS.ReadableStream, done: (err: Error | null, output: unknown[]) => void): void;
    demuxStream(stream: NodeJS.ReadableStream, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): void;
  };
}

type DockerodeClass = new (opts: { socketPath: string; timeout?: number }) => Dockerode;

/** A client for the engine listening on this unix socket. */
export function connectDocker(socketPath: string): Dockerode {
  const Docker = createRequire(import.meta.url)('dockerode') as DockerodeClass;
  return new Docker({ socketPath });
}

/** dockerode's errors carry the engine's HTTP status and JSON answer. */
export function dockerMessage(e: unknown): string {
  const err = e as { statusCode?: number; json?: { message?: string }; message?: string };
  return err.json?.message ?? err.message ?? String(e);
}
