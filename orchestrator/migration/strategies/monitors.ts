// A monitor command on each of some nodes (`bridge monitor`, `ip monitor`) while a move is
// armed, its output streamed into a file here wherever the node runs, so it is read here.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import type { LabHandle } from '../../lab/handle.js';
import type { BackgroundProcess } from '../../shell/shell.js';

export interface NodeMonitor {
  node: string;
  /** Its output, on this machine. */
  log: string;
  proc: BackgroundProcess;
}

/** Starts `argv` on every node; its files are `dir/NAME-NODE-STAMP.log`. */
export async function startMonitors(lab: LabHandle, dir: string, name: string, nodes: string[], argv: string[]): Promise<NodeMonitor[]> {
  const stamp = Date.now();
  return Promise.all(
    nodes.map(async (node) => {
      const log = join(dir, `${name}-${node}-${stamp}.log`);
      const out = createWriteStream(log);
      await once(out, 'open');
      return { node, log, proc: lab.shell(node).spawn(argv, { stdout: out, stderr: out }) };
    }),
  );
}
