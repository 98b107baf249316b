#!/usr/bin/env bash
# Test of wl-garp in network namespaces (root only). One LAN, a Linux bridge in its own
# namespace:
#
#   wlss-g-N-a  eth0 10.99.0.1  "router": sends the gratuitous ARPs
#   wlss-g-N-b  eth0 10.99.0.2  receiver: a plain Linux host whose ARP cache is checked
#   wlss-g-N-d  eth0 10.99.0.4  "D": the host whose address is announced
#   wlss-g-N-br br0 with ports pa, pb, pd
#
# Checks: usage and socket exit codes; the JSON round lines; the frame on the wire (Ethernet
# source = the sending interface, ARP sender MAC = the given one, sender IP = target IP);
# the receiver updates an EXISTING neighbour entry from an announcement whose ARP sender MAC
# differs from the Ethernet source, also twice within locktime; it creates no entry for an
# address it had not cached (arp_accept=0); the bridge FDB keeps D's MAC on D's port and never
# learns the announced MAC; restoring D's own MAC (sent by the router) makes b reach D again.
#
# Usage: bash agents/garp/netns-test.sh   (make -C agents/garp first). Needs iproute2, tcpdump.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
G=$HERE/../build/wl-garp
[ "$(id -u)" = 0 ] || { echo "netns-test: needs root" >&2; exit 2; }
[ -x "$G" ] || { echo "netns-test: build $G first (make -C agents/garp)" >&2; exit 2; }
command -v tcpdump >/dev/null || { echo "netns-test: needs tcpdump" >&2; exit 2; }

N=$(($$ % 100000))
A=wlss-g-$N-a B=wlss-g-$N-b D=wlss-g-$N-d BR=wlss-g-$N-br
MAC_A=02:00:00:99:00:01 MAC_B=02:00:00:99:00:02 MAC_D=02:00:00:99:00:04
MAC_X=02:00:00:99:00:77 # announced for D's address, owned by nobody
T=$(mktemp -d /tmp/wlss-garp.XXXXXX)
FAILS=0 PASSES=0
TCPDUMP_PID=

cleanup() {
	[ -n "$TCPDUMP_PID" ] && kill "$TCPDUMP_PID" 2>/dev/null && wait "$TCPDUMP_PID" 2>/dev/null
	for ns in $A $B $D $BR; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
check() { # name, then a command that must succeed
	local name=$1; shift
	if "$@" >/dev/null 2>&1; then
		echo "  ok   $name"; PASSES=$((PASSES + 1))
	else
		echo "  FAIL $name"; FAILS=$((FAILS + 1))
	fi
}
neigh_mac() { in_ns "$B" ip -4 neigh show 10.99.0.4 dev eth0 | awk '{for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1)}'; }
neigh_is() { [ "$(neigh_mac)" = "$1" ]; }
no_neigh() { [ -z "$(in_ns "$B" ip -4 neigh show "$1" dev eth0)" ]; }
fdb_port() { in_ns "$BR" bridge fdb show br br0 | awk -v m="$1" '$1 == m && !/permanent/ {print $3}'; }
fdb_is() { [ "$(fdb_port "$1")" = "$2" ]; }
fdb_none() { [ -z "$(fdb_port "$1")" ]; }
garp() { in_ns "$A" "$G" --iface eth0 --count 1 "$@" >/dev/null; }

echo "wl-garp netns test (namespaces wlss-g-$N-*)"
for ns in $A $B $D $BR; do ip netns add "$ns" || exit 1; done
for ns in $A $B $D $BR; do
	in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	in_ns "$ns" ip link set lo up
done
in_ns "$BR" ip link add br0 type bridge
in_ns "$BR" ip link set br0 up
for h in "a $A $MAC_A 1" "b $B $MAC_B 2" "d $D $MAC_D 4"; do
	read -r x ns mac last <<<"$h"
	ip link add "p$x" netns "$BR" type veth peer name eth0 netns "$ns" address "$mac"
	in_ns "$BR" ip link set "p$x" master br0 up
	in_ns "$ns" sysctl -qw net.ipv4.conf.all.arp_accept=0 net.ipv4.conf.eth0.arp_accept=0
	in_ns "$ns" ip addr add "10.99.0.$last/24" dev eth0
	in_ns "$ns" ip link set eth0 up
done

echo "usage and errors"
check "no arguments: exit 2" bash -c "ip netns exec $A $G 2>/dev/null; [ \$? = 2 ]"
check "bad IP: exit 2" bash -c "ip netns exec $A $G --iface eth0 10.99.0.300 2>/dev/null; [ \$? = 2 ]"
check "bad MAC: exit 2" bash -c "ip netns exec $A $G --iface eth0 10.99.0.4=02:00:zz:00:00:01 2>/dev/null; [ \$? = 2 ]"
check "bad --count: exit 2" bash -c "ip netns exec $A $G --iface eth0 --count 0 10.99.0.4 2>/dev/null; [ \$? = 2 ]"
check "unknown interface: exit 1" bash -c "ip netns exec $A $G --iface nosuch0 10.99.0.4 2>/dev/null; [ \$? = 1 ]"
check "non-Ethernet interface: exit 1" bash -c "ip netns exec $A $G --iface lo 10.99.0.4 2>/dev/null; [ \$? = 1 ]"
in_ns "$A" ip link add down9 type veth peer name down9p # left down
check "interface down: exit 1" bash -c "ip netns exec $A $G --iface down9 10.99.0.4 2>/dev/null; [ \$? = 1 ]"
in_ns "$A" "$G" --iface eth0 --count 3 --interval-ms 50 10.99.0.250 10.99.0.251=$MAC_X >"$T/rounds" 2>&1
check "3 rounds of 2: three JSON lines with sent=2" \
	bash -c "[ \$(grep -cE '^\\{\"sent\":2,\"at_ns\":[0-9]{19}\\}\$' $T/rounds) = 3 ]"
check "rounds --interval-ms apart (>= 50 ms)" \
	awk -F'[:}]' '{t[NR] = $3} END {exit !(NR == 3 && t[2] - t[1] >= 50e6 && t[3] - t[2] >= 50e6)}' "$T/rounds"

echo "warm up: b talks to D and to a, so both the ARP cache and the FDB hold D's MAC"
in_ns "$B" ping -c 2 -i 0.2 -W 1 10.99.0.4 >/dev/null
in_ns "$A" ping -c 1 -W 1 10.99.0.2 >/dev/null
check "b caches D's address at D's MAC" neigh_is $MAC_D
check "FDB: D's MAC on port pd" fdb_is $MAC_D pd
check "FDB: a's MAC on port pa" fdb_is $MAC_A pa

echo "the frame on the wire"
in_ns "$B" tcpdump -i eth0 -n -e -t -xx -l -c 1 arp and ether src $MAC_A >"$T/frame" 2>/dev/null &
TCPDUMP_PID=$!
sleep 1
garp 10.99.0.4=$MAC_X
wait "$TCPDUMP_PID"; TCPDUMP_PID=
# The whole frame as one hex string: ARP sender MAC at bytes 22-27, sender IP 28-31, target
# MAC 32-37, target IP 38-41.
HEX=$(awk '/^[[:space:]]+0x/ {for (i = 2; i <= NF && $i ~ /^[0-9a-f]+$/; i++) printf "%s", $i}' "$T/frame")
hexmac() { tr -d : <<<"$1"; }
check "Ethernet $MAC_A > broadcast, ARP request, 60 bytes" grep -q "^$MAC_A > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 60: Request" "$T/frame"
check "ARP sender IP = target IP = 10.99.0.4" grep -q "who-has 10.99.0.4 tell 10.99.0.4" "$T/frame"
check "ARP sender MAC $MAC_X, target MAC zero" [ "${HEX:44:12}${HEX:56:8}${HEX:64:12}" = "$(hexmac $MAC_X)0a630004000000000000" ]
head -1 "$T/frame" | sed 's/^/       /'

echo "an announcement with another MAC than the Ethernet source"
check "b's entry for D now at $MAC_X (ARP sender MAC, not Ethernet source)" neigh_is $MAC_X
check "b's entry is STALE (an unsolicited update is not a confirmation)" \
	bash -c "ip netns exec $B ip -4 neigh show 10.99.0.4 dev eth0 | grep -q STALE"
check "FDB: D's MAC still on port pd" fdb_is $MAC_D pd
check "FDB: a's MAC still on port pa" fdb_is $MAC_A pa
check "FDB: the announced MAC was never learned" fdb_none $MAC_X

echo "no =MAC: the interface's own MAC"
garp 10.99.0.4
check "b's entry for D now at a's MAC" neigh_is $MAC_A

echo "two announcements within locktime (1 s): the second one still wins"
garp 10.99.0.4=$MAC_X
garp 10.99.0.4=$MAC_D
check "b's entry for D back at D's own MAC" neigh_is $MAC_D
check "FDB: D's MAC still on port pd, not moved to the router's port" fdb_is $MAC_D pd
check "b reaches D again" in_ns "$B" ping -c 1 -W 1 10.99.0.4

echo "no entry is created for an address b had not cached (arp_accept=0)"
garp 10.99.0.77=$MAC_X
check "b has no entry for 10.99.0.77" no_neigh 10.99.0.77
in_ns "$B" sysctl -qw net.ipv4.conf.eth0.arp_accept=1
garp 10.99.0.78=$MAC_X
check "with arp_accept=1 b creates one for 10.99.0.78" \
	bash -c "ip netns exec $B ip -4 neigh show 10.99.0.78 dev eth0 | grep -q $MAC_X"

echo "$PASSES passed, $FAILS failed"
[ "$FAILS" = 0 ]
