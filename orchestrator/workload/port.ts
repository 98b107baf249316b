// Where a workload plugs into its hypervisor: the hypervisor's interface on the workload's
// LAN becomes a bridge port, and each workload gets a tap (VM) or a veth (container holder)
// on that bridge. Done through the node's Shell, so it works on any substrate.
import type { Shell } from '../shell/shell.js';

export function bridgeOf(iface: string): string {
  return `wb-${iface}`.slice(0, 15);
}

/**
 * Idempotent. The bridge takes over the interface's MAC, addresses and routes, so the
 * hypervisor keeps its identity on the LAN.
 */
/** Workloads on one hypervisor start at once: the first makes the bridge, the others wait for it. */
const making = new Map<string, Promise<unknown>>();

export async function ensureBridge(shell: Shell, iface: string, mark: string): Promise<string> {
  const br = bridgeOf(iface);
  const key = `${mark} ${shell.where} ${iface}`;
  const made = making.get(key) ?? shell.exec(['sh', '-ec', BRIDGE_SCRIPT, 'bridge', iface, br, mark]).finally(() => making.delete(key));
  making.set(key, made);
  await made;
  return br;
}

// /sys shows the namespace it was mounted in, not the one we entered: ask ip instead.
const BRIDGE_SCRIPT = `
if=$1 br=$2 mark=$3
ip link show dev $br >/dev/null 2>&1 && exit 0
mac=$(ip -o link show dev $if | sed 's/.*link\\/ether \\([^ ]*\\).*/\\1/')
addrs=$(ip -o -4 addr show dev $if | awk '{print $4}')
routes=$(ip -4 route show dev $if | grep -v 'proto kernel' || true)
ip link add $br address $mac type bridge forward_delay 0
ip link set $br alias "$mark"
ip addr flush dev $if
ip link set $if master $br
for a in $addrs; do ip addr add $a dev $br; done
ip link set $br up
echo "$routes" | while read -r r; do if [ -n "$r" ]; then ip route add $r dev $br; fi; done
exit 0
`;

/** A persistent tap on the bridge (kept when QEMU exits, reused when the VM comes back). */
export async function ensureTap(shell: Shell, bridge: string, tap: string, mark: string): Promise<void> {
  await shell.exec(['sh', '-ec', `ip link show dev $1 >/dev/null 2>&1 || { ip tuntap add dev $1 mode tap; ip link set $1 alias "$3"; }; ip link set $1 master $2 up`, 'tap', tap, bridge, mark]);
}
