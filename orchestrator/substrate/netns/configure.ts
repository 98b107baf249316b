// The per-node step every namespace-based substrate shares: sysctls, addresses, routes and
// link shaping, run inside each node's network namespace from the host, a few at a time.
import { Interrupted, SubstrateError } from '../../errors.js';
import { pool } from '../../pool.js';
import type { Shell } from '../../shell/shell.js';
import type { NodeSpec, Topology } from '../../topology/model.js';
import type { BuildContext } from '../substrate.js';
import { tcScript } from './linkparams.js';
import { nodeBatch, nodeTc, sysctlsOf, type Wire, type WireEnd } from './plan.js';

const CONCURRENCY = 4;

export function interruptCheck(ctx: BuildContext): () => void {
  return () => {
    if (ctx.signal?.aborted) throw new Interrupted('interrupted while bringing the lab up');
  };
}

/** One node's configuration as the commands a reader would type: what configureNodes runs in its namespace. */
export function configureCommands(n: NodeSpec, wires: Wire[], mark: string, tunnels: WireEnd[] = []): string[] {
  return [
    ...Object.entries(sysctlsOf(n)).map(([k, v]) => `sysctl -w ${k.replace(/\//g, '.')}=${v}`),
    ...nodeBatch(n, wires, mark, tunnels).trimEnd().split('\n').map((l) => `ip ${l}`),
    ...(nodeTc(n, wires).length ? tcScript(nodeTc(n, wires)).split('\n') : []),
  ];
}

/**
 * `enter(node)` is the argv prefix that runs a command in the node's network namespace;
 * `tunnels`: VXLAN ends already moved into their nodes (SSH substrate).
 */
export async function configureNodes(host: Shell, t: Topology, wires: Wire[], enter: (node: string) => string[], ctx: BuildContext, tunnels: WireEnd[] = []): Promise<void> {
  const check = interruptCheck(ctx);
  let done = 0;
  const results = await pool(t.nodes, CONCURRENCY, async (n) => {
    check();
    const sysctls = Object.entries(sysctlsOf(n)).map(([k, v]) => `echo ${v} > /proc/sys/${k}`);
    const tc = nodeTc(n, wires);
    const script = tc.length ? `${sysctls.join('; ')}; ip -batch -\n${tcScript(tc)}` : `${sysctls.join('; ')}; exec ip -batch -`;
    await host.exec([...enter(n.name), 'sh', '-ec', script], { input: nodeBatch(n, wires, ctx.state.mark, tunnels) });
    ctx.progress({ stage: 'configure', done: ++done, total: t.nodes.length });
  });
  check();
  const failed = results.map((r, i) => [t.nodes[i]!.name, r] as const).filter(([, r]) => r.status === 'rejected');
  if (failed.length) {
    const why = failed.map(([n, r]) => `  ${n}: ${((r as PromiseRejectedResult).reason as Error).message}`).join('\n');
    throw new SubstrateError(`deployment failed for ${failed.length} node${failed.length > 1 ? 's' : ''}:\n${why}`);
  }
}
