// Workloads in the topology: defaults, and the checks that tie them to hypervisors,
// subnets and the migration network.
import { addressField, cidrField, hasMalformedAddress, type Report } from './checks.js';
import { contains, formatAddr, parseAddr, parseCidr } from './ipv4.js';
import { DEFAULT_STRATEGY, type InterfaceSpec, type MigrationSpec, type NodeSpec, type Topology, type WorkloadSpec } from './model.js';
import { segmentsOf } from './segments.js';

type Raw = Record<string, any>;

/** 52:54:00 (QEMU's prefix) and the address's last three bytes. */
export function defaultMac(ipv4: string): string {
  const a = parseAddr(ipv4.split('/')[0]!) ?? 0;
  return ['52', '54', '00', ...[16, 8, 0].map((s) => ((a >>> s) & 0xff).toString(16).padStart(2, '0'))].join(':');
}

export function workloadsFromRaw(raw: Raw | undefined): WorkloadSpec[] {
  return Object.entries(raw ?? {}).map(([name, w]: [string, Raw]) => ({
    name,
    kind: w.kind,
    on: w.on,
    ipv4: w.ipv4,
    ...(w.gateway ? { gateway: w.gateway } : {}),
    mac: (w.mac ?? defaultMac(w.ipv4)).toLowerCase(),
    labels: Object.fromEntries(Object.entries((w.labels ?? {}) as Raw).map(([k, v]) => [k, String(v)])),
    app: { ...(w.app?.peer ? { peer: w.app.peer } : {}), intervalMs: w.app?.['interval-ms'] ?? 10 },
    vm: {
      memoryMb: w.vm?.['memory-mb'] ?? 256,
      accel: w.vm?.accel ?? 'auto',
      downtimeLimitMs: w.vm?.['downtime-limit-ms'] ?? 50,
      maxBandwidthMbps: w.vm?.['max-bandwidth-mbps'] ?? 0,
    },
  }));
}

export function migrationFromRaw(raw: Raw | undefined): MigrationSpec | undefined {
  return raw ? { network: raw.network, strategy: raw.strategy ?? DEFAULT_STRATEGY } : undefined;
}

/** The hypervisor interface whose subnet holds the workload's address (where its port goes). */
export function workloadPort(hv: NodeSpec, w: WorkloadSpec): string | undefined {
  const addr = parseCidr(w.ipv4)?.addr;
  if (addr === undefined) return undefined;
  const subnets = (i: InterfaceSpec) => i.ipv4.flatMap((a) => parseCidr(a) ?? []);
  return hv.interfaces.find((i) => subnets(i).some((c) => contains(c, addr)))?.name;
}

/** The hypervisor's address on the migration network. */
export function migrationAddress(t: Topology, hv: string): string | undefined {
  const seg = segmentsOf(t).find((s) => s.lan?.name === t.migration?.network);
  const m = seg?.members.find((x) => x.node.name === hv && x.addrs.length);
  return m ? formatAddr(m.addrs[0]!.addr) : undefined;
}

export function checkWorkloads(t: Topology, raw: Raw, report: Report): void {
  const nodes = new Map(t.nodes.map((n) => [n.name, n]));
  const hypervisors = t.nodes.filter((n) => n.kind === 'hypervisor');
  const addresses = new Set(t.nodes.flatMap((n) => n.interfaces.flatMap((i) => i.ipv4.map((a) => a.split('/')[0]))));
  const seen = new Map<string, string>();
  for (const w of t.workloads) {
    const at = ['workloads', w.name];
    // Steps and `warplab exec` take a node or a workload by name.
    if (nodes.has(w.name)) report(at, `workload ${w.name} has the name of a node`, 'give every workload a name of its own');
    const hv = nodes.get(w.on);
    if (!hv || hv.kind !== 'hypervisor') {
      report([...at, 'on'], hv ? `${w.on} is a ${hv.kind}; workloads run on hypervisor nodes` : `unknown node "${w.on}"`, hypervisors.length ? `hypervisors: ${hypervisors.map((h) => h.name).join(', ')}` : 'add a node of kind: hypervisor');
    }
    if (w.kind !== 'vm' && raw.workloads[w.name].vm) report([...at, 'vm'], 'vm settings apply to kind: vm only', 'remove the vm block or set kind: vm');
    if (w.app.peer && addressField(w.app.peer, [...at, 'app', 'peer'], report) !== undefined && !addresses.has(w.app.peer)) {
      report([...at, 'app', 'peer'], `no node has the address ${w.app.peer}`, 'the workload streams to a node of this lab');
    }
    // Its port, gateway and default MAC all follow from its address.
    const cidr = cidrField(w.ipv4, 'host', [...at, 'ipv4'], report);
    if (!cidr) continue;
    if (hv?.kind === 'hypervisor' && !hasMalformedAddress(hv) && !workloadPort(hv, w)) {
      report([...at, 'ipv4'], `${w.ipv4} lies in no subnet of ${hv.name}'s interfaces`, 'a workload joins the LAN of one of its hypervisor\'s interfaces');
    }
    const gateway = w.gateway === undefined ? undefined : addressField(w.gateway, [...at, 'gateway'], report);
    if (gateway !== undefined && !contains(cidr, gateway)) report([...at, 'gateway'], `gateway ${w.gateway} is outside ${w.ipv4}`);
    for (const key of [w.ipv4.split('/')[0]!, w.mac]) {
      const twin = seen.get(key);
      if (twin) report(at, `${w.name} and ${twin} share ${key}`, 'give every workload its own address and MAC');
      seen.set(key, w.name);
    }
  }
  if (!t.workloads.length) return;
  if (!t.migration) return report(['workloads'], 'workloads need a migration section', 'add migration: {network: LAN} naming the lan that carries migration traffic');
  const lan = nodes.get(t.migration.network);
  if (lan?.kind !== 'lan') return report(['migration', 'network'], `${t.migration.network} is not a lan of this topology`, `lans: ${t.nodes.filter((n) => n.kind === 'lan').map((n) => n.name).join(', ')}`);
  for (const hv of hypervisors) {
    if (!hasMalformedAddress(hv) && !migrationAddress(t, hv.name)) report(['nodes', hv.name], `hypervisor ${hv.name} has no address on the migration network ${lan.name}`, `link an interface of ${hv.name} to ${lan.name}`, true);
  }
}
