// Link parameters (Mininet's TCLink: bw, delay, loss, max_queue_size) as tc commands, and a
// run-time check that the kernel has the qdiscs they need. Used by every substrate whose
// nodes are Linux network namespaces (netns, mininet). Unlike TCLink, a parameter the kernel
// cannot apply is never dropped: the lab refuses to come up and says which feature is missing.
import { shQuote, type Shell } from '../../shell/shell.js';
import { endpointName, type LinkParams, type Topology } from '../../topology/model.js';

export type Qdisc = 'htb' | 'netem' | 'pfifo';

/** Where each qdisc comes from, for the message when it is missing. */
export const QDISC_ORIGIN: Record<Qdisc, string> = {
  htb: 'kernel option CONFIG_NET_SCH_HTB, module sch_htb',
  netem: 'kernel option CONFIG_NET_SCH_NETEM, module sch_netem',
  pfifo: 'kernel option CONFIG_NET_SCHED',
};

/** What a probe adds to a throwaway veth to see whether the kernel has the qdisc. */
const PROBE: Record<Qdisc, string> = {
  htb: 'htb default 1',
  netem: 'netem delay 1ms',
  pfifo: 'pfifo limit 10',
};

function usesNetem(p: LinkParams): boolean {
  // loss 0 is no loss (TCLink skips it too).
  return p.delay !== undefined || !!p.loss;
}

/** The qdiscs a link's parameters need, each with the parameters that need it. */
export function qdiscsFor(p: LinkParams | undefined): Map<Qdisc, string[]> {
  const need = new Map<Qdisc, string[]>();
  if (!p) return need;
  if (p.bw !== undefined) need.set('htb', ['bw']);
  if (usesNetem(p)) need.set('netem', [...(p.delay !== undefined ? ['delay'] : []), ...(p.loss ? ['loss'] : []), ...(p.maxQueueSize !== undefined ? ['max_queue_size'] : [])]);
  else if (p.maxQueueSize !== undefined) need.set('pfifo', ['max_queue_size']);
  return need;
}

/**
 * The tc commands that shape one end of a link, in order (as TCLink: an htb class for bw,
 * netem below it for delay/loss/limit; a pfifo limits the queue when there is no netem).
 */
export function tcArgv(dev: string, p: LinkParams | undefined): string[][] {
  if (!p) return [];
  const cmds: string[][] = [];
  let parent = ['root'];
  if (p.bw !== undefined) {
    cmds.push(['tc', 'qdisc', 'add', 'dev', dev, 'root', 'handle', '5:', 'htb', 'default', '1']);
    cmds.push(['tc', 'class', 'add', 'dev', dev, 'parent', '5:', 'classid', '5:1', 'htb', 'rate', `${p.bw}mbit`, 'burst', '15k']);
    parent = ['parent', '5:1'];
  }
  const limit = p.maxQueueSize !== undefined ? ['limit', String(p.maxQueueSize)] : [];
  if (usesNetem(p)) {
    const netem = [...(p.delay !== undefined ? ['delay', p.delay] : []), ...(p.loss ? ['loss', `${p.loss}%`] : [])];
    cmds.push(['tc', 'qdisc', 'add', 'dev', dev, ...parent, 'handle', '10:', 'netem', ...netem, ...limit]);
  } else if (limit.length) {
    cmds.push(['tc', 'qdisc', 'add', 'dev', dev, ...parent, 'handle', '10:', 'pfifo', ...limit]);
  }
  return cmds;
}

/** The same commands as shell text, for a node's configuration script. */
export function tcScript(cmds: string[][]): string {
  return cmds.map((c) => c.map(shQuote).join(' ')).join('\n');
}

/**
 * Which of `wanted` this kernel lacks: each is tried on a veth in a throwaway network
 * namespace (`unshare --net`), which the kernel removes when the probe exits.
 */
export async function missingQdiscs(host: Shell, wanted: Qdisc[]): Promise<{ missing: Qdisc[]; error?: string }> {
  if (!wanted.length) return { missing: [] };
  const script = [
    'ip link add wlprobe0 type veth peer name wlprobe1 || exit 3',
    ...wanted.map((q) => `if tc qdisc add dev wlprobe0 root handle 1: ${PROBE[q]} >/dev/null 2>&1; then echo have ${q}; tc qdisc del dev wlprobe0 root; fi`),
  ].join('\n');
  const r = await host.exec(['unshare', '--net', 'sh', '-c', script], { check: false });
  if (r.exitCode !== 0) return { missing: [], error: `cannot probe the kernel's qdiscs in a throwaway namespace (unshare --net, exit ${r.exitCode}): ${r.stderr.trim() || r.stdout.trim()}` };
  const have = new Set(r.stdout.split('\n').map((l) => /^have (\S+)$/.exec(l)?.[1]));
  return { missing: wanted.filter((q) => !have.has(q)) };
}

/** One sentence per link whose parameters this kernel cannot apply (empty: all can be). */
export async function linkParamsMissing(t: Topology, host: Shell): Promise<string[]> {
  const shaped = t.links.map((l, i) => ({ l, i, need: qdiscsFor(l.params) })).filter((x) => x.need.size);
  if (!shaped.length) return [];
  const wanted = [...new Set(shaped.flatMap((x) => [...x.need.keys()]))];
  const probe = await missingQdiscs(host, wanted);
  if (probe.error) return [`links have bw/delay/loss/max_queue_size, but ${probe.error}`];
  const out: string[] = [];
  for (const { l, i, need } of shaped) {
    for (const [q, params] of need) {
      if (!probe.missing.includes(q)) continue;
      out.push(
        `link ${endpointName(l.a)} -- ${endpointName(l.b)} (links[${i}]): ${params.join(', ')} need${params.length === 1 ? 's' : ''} the ${q} qdisc, which this kernel lacks (${QDISC_ORIGIN[q]}); ` +
          `remove ${params.join('/')} from the link or use a kernel with ${q} — warplab never leaves a link silently unshaped`,
      );
    }
  }
  return out;
}
