// containerlab's `exec:` on every substrate: each node's lines run in order through the Shell
// that sees the node's own files (docker exec into a container node, its namespace elsewhere).
// Registered first, so that what they configure (addresses, routes) is there before
// translators, strategies and workloads start. They leave nothing for `down` to remove.
import { LabError } from '../errors.js';
import type { NodeSpec } from '../topology/model.js';
import type { LabExtension } from './extension.js';
import type { LabHandle } from './handle.js';

const withExec = (nodes: NodeSpec[]) => nodes.filter((n) => n.container?.exec.length);

/** The node's lines one after the other; the first that fails stops them. */
async function runLines(lab: LabHandle, node: NodeSpec, signal?: AbortSignal): Promise<void> {
  const shell = lab.imageShell(node.name);
  for (const line of node.container!.exec) {
    const r = await shell.exec(['sh', '-c', line], { check: false, ...(signal ? { signal } : {}) });
    if (r.exitCode !== 0) {
      const err = r.stderr.trim() || r.stdout.trim() || '(no output)';
      throw new LabError(`exec on ${node.name} failed (exit ${r.exitCode}): ${line}\n    ${err.split('\n').slice(-5).join('\n    ')}`);
    }
  }
}

export const execExtension: LabExtension = {
  name: 'exec',
  spansHosts: true,
  wanted: (t) => withExec(t.nodes).length > 0,
  missing: async () => [],
  async start(lab, ctx) {
    const nodes = withExec(lab.topology.nodes);
    let done = 0;
    ctx.onProgress?.({ stage: 'exec lines', done, total: nodes.length });
    // Nodes side by side, as containerlab runs them; lines within a node in order.
    await Promise.all(
      nodes.map(async (n) => {
        await runLines(lab, n, ctx.signal);
        ctx.onProgress?.({ stage: 'exec lines', done: ++done, total: nodes.length });
      }),
    );
  },
  stop: async () => [],
};
