// Which FRR daemons a node runs, read from its frr.conf: what Debian's /etc/frr/daemons
// would switch on by hand. Pure, so the loader can fill them in and tests can check them.

/** The daemons a topology may name (FRR 8.4, Debian's /usr/lib/frr). */
export const FRR_DAEMONS = ['zebra', 'bgpd', 'ospfd', 'ospf6d', 'isisd', 'ripd', 'ripngd', 'bfdd', 'staticd', 'pimd', 'ldpd', 'eigrpd', 'babeld', 'fabricd', 'pbrd', 'vrrpd'] as const;

/** A configuration line that needs a daemon besides zebra. */
const NEEDS: [RegExp, string][] = [
  [/^router bgp\b/, 'bgpd'],
  [/^router ospf\b/, 'ospfd'],
  [/^router ospf6\b/, 'ospf6d'],
  [/^router isis\b/, 'isisd'],
  [/^router rip\b/, 'ripd'],
  [/^router ripng\b/, 'ripngd'],
  [/^router eigrp\b/, 'eigrpd'],
  [/^router babel\b/, 'babeld'],
  [/(^|\s)bfd\b/, 'bfdd'],
  [/^ip(v6)? route\b/, 'staticd'],
];

/**
 * zebra first (the others connect to it), then the daemons `named` in the topology or, when
 * it names none, those the configuration needs; each once.
 */
export function daemonsFor(config: string, named?: readonly string[]): string[] {
  const lines = config.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('!') && !l.startsWith('#'));
  const needed = named ?? NEEDS.filter(([re]) => lines.some((l) => re.test(l))).map(([, d]) => d);
  return [...new Set(['zebra', ...needed])];
}
