// The two probe streams of a workload, both timed on its peer (whose clock, unlike a VM's,
// runs on across the migration): the workload's own sender → peer, and peer → workload's
// echo → peer.
import { join } from 'node:path';
import { LabError } from '../errors.js';
import type { LabHandle } from '../lab/handle.js';
import { probeBinary } from '../probe/binaries.js';
import { startProbeStream, type ProbeStream } from '../probe/stream.js';
import type { WorkloadSpec } from '../topology/model.js';
import { APP_PORTS } from './app.js';

export interface WorkloadStreamOptions {
  /** Where the raw logs go. */
  dir: string;
  /** The echo stream's interval (the workload's own sender keeps its topology interval). */
  echoIntervalMs?: number;
  maxDurationS: number;
  /** Prefixes log file names (a trial). */
  prefix?: string;
}

/** The node that owns the workload's peer address. */
export function peerNode(lab: LabHandle, w: WorkloadSpec): string {
  const node = lab.topology.nodes.find((n) => n.interfaces.some((i) => i.ipv4.some((a) => a.split('/')[0] === w.app.peer)));
  if (!node) throw new LabError(`${w.name} has no app.peer in lab ${lab.name}: nothing to stream with`);
  return node.name;
}

export async function startWorkloadStreams(lab: LabHandle, w: WorkloadSpec, o: WorkloadStreamOptions): Promise<ProbeStream[]> {
  const peer = peerNode(lab, w);
  const addr = w.ipv4.split('/')[0]!;
  const log = (name: string) => join(o.dir, `${o.prefix ?? ''}${name}.bin`);
  const shell = lab.shell(peer);
  // The programs on the peer's machine: sent there once when that is another host.
  const machine = lab.machine(peer);
  const programs = { send: await machine.place(probeBinary('udp-send')), recv: await machine.place(probeBinary('udp-recv')) };
  return Promise.all([
    startProbeStream({ label: `${w.name}→${peer}`, workload: w.name, receiver: shell, receiverNode: peer, programs, to: addr, port: APP_PORTS.send, intervalMs: w.app.intervalMs, stream: 1, maxDurationS: o.maxDurationS, logPath: log(`${w.name}-to-${peer}`) }),
    startProbeStream({
      label: `${peer}→${w.name}→${peer}`,
      workload: w.name,
      sender: shell,
      receiver: shell,
      receiverNode: peer,
      programs,
      to: addr,
      port: APP_PORTS.reflect,
      sendPort: APP_PORTS.echo,
      intervalMs: o.echoIntervalMs ?? w.app.intervalMs,
      stream: 2,
      maxDurationS: o.maxDurationS,
      logPath: log(`${peer}-echo-${w.name}`),
    }),
  ]);
}
