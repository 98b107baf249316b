// Runs one probe stream (udp-send in one node → udp-recv in another) through the nodes'
// Shells, so the same code drives netns nodes, VMs, containers and SSH hosts.
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BackgroundProcess, Shell } from '../shell/shell.js';
import { probeBinary } from './binaries.js';
import { realtimeNowMs } from './clock.js';
import { ProbeError } from './errors.js';

export interface ProbeStreamOptions {
  /** Names the stream in reports, e.g. `vm→client`. */
  label: string;
  /** The workload whose packets it carries (its own sender, or its echo). */
  workload?: string;
  /** Absent when something else sends: a workload's own sender. */
  sender?: Shell;
  receiver: Shell;
  /** The receiver's node, carried into the capture (its host's clock stamps the arrivals). */
  receiverNode?: string;
  /** Where the sender sends: the receiver's address, or a reflector's. */
  to: string;
  /** Receiver port; 0 lets it pick a free one. */
  port?: number;
  /** The port the sender sends to when it is not the receiver's: a reflector (workload echo). */
  sendPort?: number;
  /** Default 1 ms; the papers used 10 ms. */
  intervalMs?: number;
  stream?: number;
  sizeBytes?: number;
  /** Both programs stop by themselves after this long, whatever happens to warplab. */
  maxDurationS: number;
  /** The binary log is written here on the orchestrator's machine; `.recv.stderr`,
   *  `.send.stdout` and `.send.stderr` beside it keep the programs' own output. */
  logPath: string;
  /** Paths of the programs on the sender's and receiver's machines (default: this checkout's
   *  build, which nodes on this machine share with the orchestrator). */
  programs?: { send: string; recv: string };
}

/** udp-send's exit counters. */
export interface SenderSummary {
  sent: number;
  sendErrors: number;
  lastError: string;
  skippedSlots: number;
  maxLateUs: number;
}

/** udp-recv's exit counters. */
export interface ReceiverSummary {
  logged: number;
  foreign: number;
  userTimestamps: number;
}

export interface StreamCapture {
  label: string;
  receiverNode?: string;
  workload?: string;
  stream: number;
  intervalMs: number;
  logPath: string;
  /** When the receiver was told to stop (orchestrator's clock, epoch ms): the end of the recording. */
  endedMs: number;
  sender: SenderSummary | null;
  receiver: ReceiverSummary | null;
}

export interface ProbeStream {
  readonly label: string;
  readonly port: number;
  /** Stops the sender, lets packets in flight land, stops the receiver, collects counters. */
  stop(): Promise<StreamCapture>;
}

const READY = /udp-recv: listening on \S+ port (\d+)/;

export async function startProbeStream(o: ProbeStreamOptions): Promise<ProbeStream> {
  const intervalMs = o.intervalMs ?? 1;
  const stream = o.stream ?? 1;
  const programs = o.programs ?? { send: probeBinary('udp-send'), recv: probeBinary('udp-recv') };
  const recvText = `${o.logPath}.recv.stderr`;
  const sendText = `${o.logPath}.send.stdout`;

  const files = await Promise.all([o.logPath, recvText, ...(o.sender ? [sendText, `${o.logPath}.send.stderr`] : [])].map(openedFile));
  const [recvOut, recvErr, sendOut, sendErr] = files as [WriteStream, WriteStream, WriteStream?, WriteStream?];
  const receiver = o.receiver.spawn(
    [programs.recv, '--port', String(o.port ?? 0), '--out', '-', '--duration', String(o.maxDurationS + 5)],
    { stdout: recvOut, stderr: recvErr },
  );
  const port = await readyPort(receiver, recvText, o.receiver.where).catch((e: unknown) => {
    for (const f of files) f.destroy();
    throw e;
  });

  const sender = o.sender?.spawn(
    [programs.send, '--to', o.to, '--port', String(o.sendPort ?? port), '--interval-us', String(Math.round(intervalMs * 1000)), '--stream', String(stream), '--size', String(o.sizeBytes ?? 64), '--duration', String(o.maxDurationS)],
    { stdout: sendOut!, stderr: sendErr! },
  );

  return {
    label: o.label,
    port,
    stop: async () => {
      if (sender) await stopProcess(sender);
      await sleep(Math.max(20, 3 * intervalMs)); // the last packets are still on the wire
      const endedMs = realtimeNowMs();
      await stopProcess(receiver);
      await Promise.all(files.map((s) => settled(s)));
      return {
        label: o.label,
        ...(o.receiverNode ? { receiverNode: o.receiverNode } : {}),
        ...(o.workload ? { workload: o.workload } : {}),
        stream,
        intervalMs,
        logPath: o.logPath,
        endedMs,
        sender: sender ? lastJson<SenderSummary>(sendText, 'udp-send') : null,
        receiver: lastJson<ReceiverSummary>(recvText, 'udp-recv'),
      };
    },
  };
}

/** Opened before a program starts, so its output file exists from the first byte. */
async function openedFile(path: string): Promise<WriteStream> {
  const s = createWriteStream(path);
  await once(s, 'open');
  return s;
}

async function readyPort(p: BackgroundProcess, textPath: string, where: string): Promise<number> {
  let exited = false;
  void p.exited.then(() => (exited = true));
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(5)) {
    const m = READY.exec(readFileSync(textPath, 'utf8'));
    if (m) return Number(m[1]);
    if (exited) throw new ProbeError(`udp-recv exited before listening on ${where}: ${readFileSync(textPath, 'utf8').trim()}`);
  }
  p.kill('SIGKILL');
  throw new ProbeError(`udp-recv did not start listening on ${where} within 10 s`);
}

async function stopProcess(p: BackgroundProcess): Promise<void> {
  p.kill('SIGTERM');
  const code = await Promise.race([p.exited, sleep(5_000, 'timeout' as const, { ref: false })]);
  if (code === 'timeout') {
    p.kill('SIGKILL');
    await p.exited;
  }
}

async function settled(s: WriteStream): Promise<void> {
  await finished(s).catch(() => {});
}

/** The JSON counters line a probe program prints last; null if it died without one. */
function lastJson<T>(path: string, program: string): T | null {
  const line = readFileSync(path, 'utf8')
    .split('\n')
    .reverse()
    .find((l) => l.startsWith(`{"program":"${program}"`));
  return line ? (JSON.parse(line) as T) : null;
}
