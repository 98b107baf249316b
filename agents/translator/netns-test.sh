#!/usr/bin/env bash
# End-to-end test of xlate-agent in a chain of network namespaces (root only):
#
#   wlx-a (10.0.1.2) --eth0/lan0-- wlx-r (agent) --wan0/eth0-- wlx-b (10.0.2.2)
#
# Rules: page 10.0.1.0/24 wan 150.24.1.0/24 contiguous + page 10.0.2.0/24 pass, so b sees a
# as 150.24.1.2. Checks translation (tcpdump in b), ICMP/UDP/TCP both ways with checksums
# verified in software (veth offloads off) and with offloads on, UDP checksum 0, fragments,
# drops with counters, switch (and its latency through the socket), no loss of a 1 ms UDP
# stream during 100 switches, kill -9 + restart, --cleanup.
#
# Usage: bash agents/translator/netns-test.sh [ebpf|nftables|both]   (make -C agents first)
# XLATE_BPF_OBJECT=PATH runs the agent with --bpf-object PATH; VERBOSE=1 prints the agent log.
# Needs: iproute2, nftables, tcpdump, socat, ethtool, python3.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$HERE/../build
AG=$BUILD/xlate-agent
BACKENDS=${1:-both}
[ "$BACKENDS" = both ] && BACKENDS="ebpf nftables"
[ "$(id -u)" = 0 ] || { echo "netns-test: needs root" >&2; exit 2; }
for t in "$AG" "$BUILD/udp-send" "$BUILD/udp-recv"; do [ -x "$t" ] || { echo "netns-test: build $t first (make -C agents)" >&2; exit 2; }; done
for c in tcpdump socat ethtool python3 nft; do command -v $c >/dev/null || { echo "netns-test: needs $c" >&2; exit 2; }; done

T=$(mktemp -d /tmp/wlx-xlate.XXXXXX)
FAILS=0
PIDS=()
PGIDS=()
A="ip netns exec wlx-a" R="nsenter --net=/run/netns/wlx-r" B="ip netns exec wlx-b"

say() { printf '%s\n' "$*"; }
check() { # name, then a command that must succeed
	local name=$1; shift
	if "$@" >/dev/null 2>&1; then say "  ok   $name"; else say "  FAIL $name"; FAILS=$((FAILS + 1)); fi
}

teardown() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for g in "${PGIDS[@]}"; do kill -- "-$g" 2>/dev/null; done
	for st in "$T"/state-*; do [ -d "$st" ] && $R "$AG" --cleanup --state "$st" >>"$T/cleanup.log" 2>&1; done
	for n in wlx-a wlx-r wlx-b; do ip netns del $n 2>/dev/null; done
	if mount | grep -q " $T/"; then say "FAIL: a mount under $T is left"; fi
	rm -rf "$T"
}
trap teardown EXIT
trap "exit 130" INT TERM

cat >"$T/ctl.py" <<'EOF'
import json, socket, statistics, sys, time
class Ctl:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); self.s.connect(path); self.buf = b''
    def req(self, text):
        self.s.sendall(text.encode() + b'\n')
        while b'\n' not in self.buf:
            d = self.s.recv(1 << 20)
            if not d: raise EOFError('agent closed the connection')
            self.buf += d
        line, self.buf = self.buf.split(b'\n', 1)
        return json.loads(line)
c = Ctl(sys.argv[1])
if sys.argv[2] == 'bench':      # bench N LINE-A LINE-B: alternate two switches N times
    n, la, lb = int(sys.argv[3]), sys.argv[4], sys.argv[5]
    rtt, kus = [], []
    for i in range(n):
        t0 = time.perf_counter(); r = c.req(la if i % 2 == 0 else lb); t1 = time.perf_counter()
        if not r.get('ok'): print(json.dumps(r)); sys.exit(1)
        rtt.append((t1 - t0) * 1e6); kus.append(r['kernel_us'])
    f = lambda v: '%d/%d/%d' % (min(v), statistics.median(v), max(v))
    print('switch x%d: round trip us min/median/max %s; kernel_us %s' % (n, f(rtt), f(kus)))
    sys.exit(0)
for a in sys.argv[2:]:
    print(json.dumps(c.req(a.replace('\\n', '\n'))))
EOF
ctl() { python3 "$T/ctl.py" "$@"; }
field() { python3 -c "import json,sys; print(json.loads(sys.stdin.readline())['$1'])"; }
counter() { ctl "$SOCK" counters | field "$1"; }

setup_net() {
	for n in wlx-a wlx-r wlx-b; do ip netns add $n; done
	ip link add wlx-ar type veth peer name wlx-ra
	ip link set wlx-ar netns wlx-a name eth0
	ip link set wlx-ra netns wlx-r name lan0
	ip link add wlx-br type veth peer name wlx-rb
	ip link set wlx-br netns wlx-b name eth0
	ip link set wlx-rb netns wlx-r name wan0
	ip -n wlx-a addr add 10.0.1.2/24 dev eth0
	ip -n wlx-a addr add 10.0.9.2/32 dev eth0 # a source no page covers
	ip -n wlx-r addr add 10.0.1.1/24 dev lan0
	ip -n wlx-r addr add 10.0.2.1/24 dev wan0
	ip -n wlx-b addr add 10.0.2.2/24 dev eth0
	for n in wlx-a wlx-r wlx-b; do ip -n $n link set lo up; done
	ip -n wlx-a link set eth0 up
	ip -n wlx-b link set eth0 up
	ip -n wlx-r link set lan0 up
	ip -n wlx-r link set wan0 up
	ip -n wlx-a route add default via 10.0.1.1
	ip -n wlx-b route add 150.24.0.0/16 via 10.0.2.1
	ip -n wlx-b route add 10.0.1.0/24 via 10.0.2.1
	ip -n wlx-b route add 10.0.3.0/24 via 10.0.2.1
	$R sysctl -qw net.ipv4.ip_forward=1
	# echo servers in b
	# (own process groups, so teardown also ends the per-client children; -T ends idle ones)
	setsid $B socat -T2 UDP-LISTEN:5000,fork PIPE >/dev/null 2>&1 & PGIDS+=($!)
	setsid $B socat -t5 -T5 TCP-LISTEN:5001,reuseaddr,fork PIPE >/dev/null 2>&1 & PGIDS+=($!)
	sleep 0.3
}

# Checksum offload on the veths. off: every checksum is computed in software at the sender
# and verified in software at the receiver (rx off: veth does not mark it as already checked).
# mixed: the end hosts send CHECKSUM_PARTIAL packets (tx on), r's egress completes them in
# software (tx off), the receiver verifies (rx off) - so the translator's pseudo-header update
# of a partial checksum is checked too. on: the default (nobody computes or verifies).
offload() {
	local h=$1 rt=$1 rx=$1
	[ "$1" = mixed ] && { h=on; rt=off; rx=off; }
	$A ethtool -K eth0 tx "$h" rx "$rx" >/dev/null 2>&1
	$B ethtool -K eth0 tx "$h" rx "$rx" >/dev/null 2>&1
	$R ethtool -K lan0 tx "$rt" rx "$rx" >/dev/null 2>&1
	$R ethtool -K wan0 tx "$rt" rx "$rx" >/dev/null 2>&1
}

tcp_copy() { # receiver-netns-cmd bind-addr sender-netns-cmd connect-addr: 2 MB, one way, compared
	rm -f "$T/got"
	$1 timeout 10 socat -u TCP-LISTEN:5004,reuseaddr,bind=$2 OPEN:"$T/got",creat,trunc & local l=$!
	sleep 0.3
	$3 timeout 10 socat -u OPEN:"$T/big" TCP:$4:5004,connect-timeout=2
	wait $l
	cmp -s "$T/got" "$T/big"
}

csum_errors() { $B nstat -az UdpInCsumErrors TcpInCsumErrors 2>/dev/null | awk '/CsumErrors/ {s += $2} END {print s + 0}'; }

traffic_checks() { # $1 = label
	local e0 e1 big
	e0=$(csum_errors)
	check "[$1] ping a->b" $A ping -c2 -i0.2 -W1 10.0.2.2
	check "[$1] UDP echo a->b->a" bash -c "[ \"\$(echo hello-udp | $A socat -T1 - UDP:10.0.2.2:5000)\" = hello-udp ]"
	check "[$1] TCP echo a->b->a" bash -c "[ \"\$(echo hello-tcp | $A socat -T2 - TCP:10.0.2.2:5001,connect-timeout=2)\" = hello-tcp ]"
	head -c 2000000 /dev/urandom >"$T/big"
	check "[$1] TCP 2 MB a->b intact" tcp_copy "$B" 10.0.2.2 "$A" 10.0.2.2
	check "[$1] TCP 2 MB b->a (connection from b to 150.24.1.2) intact" tcp_copy "$A" 0.0.0.0 "$B" 150.24.1.2
	check "[$1] fragmented ICMP (ping -s 3000)" $A ping -c1 -W1 -s 3000 10.0.2.2
	big=$(head -c 3000 /dev/zero | tr '\0' x)
	check "[$1] fragmented UDP echo (3000 B)" bash -c "[ \"\$(printf %s $big | $A socat -T1 - UDP:10.0.2.2:5000 | wc -c)\" = 3000 ]"
	e1=$(csum_errors)
	check "[$1] no checksum errors counted in b ($e0 -> $e1)" test "$e0" = "$e1"
}

run_backend() {
	local be=$1 ST=$T/state-$1 out
	local extra=()
	[ -n "${XLATE_BPF_OBJECT:-}" ] && extra=(--bpf-object "$XLATE_BPF_OBJECT")
	SOCK=$T/$1.sock
	say "== backend $be"
	$R "$AG" --socket "$SOCK" --state "$ST" --backend "$be" --mark wlx-test --lan-if lan0 "${extra[@]}" >"$T/agent-$be.log" 2>&1 &
	local apid=$!
	PIDS+=($apid)
	for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
	check "socket is 0600" bash -c "[ \"\$(stat -c %a '$SOCK')\" = 600 ]"
	out=$(ctl "$SOCK" $'apply\npage 10.0.1.0/24 wan 150.24.1.0/24 contiguous\npage 10.0.2.0/24 pass\nend')
	say "  apply: $out"
	check "apply ok" grep -q '"ok": true' <<<"$out"

	# what b sees
	$B timeout 5 tcpdump -lni eth0 -c 2 -vv icmp >"$T/tcpdump-$be.txt" 2>/dev/null &
	local tpid=$!
	sleep 0.5
	$A ping -c1 -W1 10.0.2.2 >/dev/null
	wait $tpid
	check "b sees a as 150.24.1.2" grep -q '150.24.1.2 > 10.0.2.2: ICMP echo request' "$T/tcpdump-$be.txt"

	offload off
	traffic_checks "$be, offload off"
	# UDP checksum 0 must arrive as 0 (tcpdump says "[no cksum]") and be accepted
	$B timeout 5 tcpdump -lni eth0 -c 1 -vv udp port 5002 >"$T/udp0-$be.txt" 2>/dev/null &
	tpid=$!
	sleep 0.5
	$A python3 -c "
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
p = b'zero-checksum'
s.sendto(struct.pack('!HHHH', 40000, 5002, 8 + len(p), 0) + p, ('10.0.2.2', 0))"
	wait $tpid
	check "UDP checksum 0 stays 0" grep -q 'no cksum' "$T/udp0-$be.txt"
	offload mixed
	traffic_checks "$be, offload mixed"
	offload on
	traffic_checks "$be, offload on"

	# drops
	local s0 d0
	s0=$(counter dropped_no_src_rule); d0=$(counter dropped_no_dst_rule)
	$A ping -c1 -W1 10.0.3.5 >/dev/null 2>&1
	$A ping -c1 -W1 -I 10.0.9.2 10.0.2.2 >/dev/null 2>&1
	check "no rule for destination: dropped and counted ($d0 -> $(counter dropped_no_dst_rule))" test "$(counter dropped_no_dst_rule)" -gt "$d0"
	check "no rule for source: dropped and counted ($s0 -> $(counter dropped_no_src_rule))" test "$(counter dropped_no_src_rule)" -gt "$s0"
	check "translated counters move" test "$(counter translated_from_lan)" -gt 0 -a "$(counter translated_from_wan)" -gt 0
	# a malformed request is answered, not fatal
	out=$(ctl "$SOCK" "switch 10.0.1.5/24 pass" "switch 10.0.1.2/32 wan 150.24.1.0/24 contiguous" "bogus")
	check "bad requests get ok:false" bash -c "[ \$(grep -c '\"ok\": false' <<<'$out') = 3 ]"

	# switch one host to another WAN address; b must see the new one, replies must come back
	out=$(ctl "$SOCK" "switch 10.0.1.2/32 wan 150.24.9.2/32 contiguous")
	say "  switch: $out"
	$B timeout 5 tcpdump -lni eth0 -c 2 icmp >"$T/tcpdump2-$be.txt" 2>/dev/null &
	tpid=$!
	sleep 0.5
	check "after switch: ping a->b" $A ping -c1 -W1 10.0.2.2
	wait $tpid
	check "after switch: b sees 150.24.9.2" grep -q '150.24.9.2 > 10.0.2.2' "$T/tcpdump2-$be.txt"
	check "rules lists the switched page" bash -c "ctl() { python3 '$T/ctl.py' \"\$@\"; }; ctl '$SOCK' rules | grep -q '10.0.1.2/32 wan 150.24.9.2/32'"

	# latency of 100 switches through the socket
	ctl "$SOCK" bench 100 "switch 10.0.1.2/32 wan 150.24.1.2/32 contiguous" "switch 10.0.1.2/32 wan 150.24.9.2/32 contiguous" | sed 's/^/  /'

	# a 1 ms UDP stream during 100 switches between two WAN addresses that b both routes
	$B "$BUILD/udp-recv" --port 5003 --out "$T/recv-$be.bin" --duration 6 2>"$T/recv-$be.json" & local rpid=$!
	sleep 0.2
	$A "$BUILD/udp-send" --to 10.0.2.2 --port 5003 --interval-us 1000 --duration 4 >"$T/send-$be.json" 2>/dev/null & local spid=$!
	sleep 0.5
	ctl "$SOCK" bench 100 "switch 10.0.1.2/32 wan 150.24.1.2/32 contiguous" "switch 10.0.1.2/32 wan 150.24.9.2/32 contiguous" >/dev/null
	wait $spid; wait $rpid
	local sent logged
	sent=$(python3 -c "import json; print(json.load(open('$T/send-$be.json'))['sent'])" 2>/dev/null || echo '?')
	logged=$(tail -1 "$T/recv-$be.json" | python3 -c "import json,sys; print(json.loads(sys.stdin.read())['logged'])" 2>/dev/null || echo '?')
	check "1 ms UDP stream through 100 switches: sent $sent, received $logged" test "$sent" = "$logged"

	# whole-set apply of a bigger table: time it
	python3 -c "
print('apply')
for i in range(1000): print('page 10.%d.%d.0/24 wan 151.%d.%d.0/24 contiguous' % (100 + i // 256, i % 256, i // 256, i % 256))
print('page 10.0.1.0/24 wan 150.24.1.0/24 contiguous'); print('page 10.0.2.0/24 pass'); print('end')" >"$T/apply1k.txt"
	out=$(ctl "$SOCK" "$(cat "$T/apply1k.txt")")
	say "  apply of 1002 pages: $out"
	out=$(ctl "$SOCK" "switch 10.0.1.2/32 wan 150.24.9.2/32 contiguous")
	ctl "$SOCK" bench 100 "switch 10.0.1.2/32 wan 150.24.1.2/32 contiguous" "switch 10.0.1.2/32 wan 150.24.9.2/32 contiguous" | sed 's/^/  with 1002 pages: /'
	# a non-contiguous page: h -> 5h+3 then h ^= h>>3 (inverse: xorshift-inv:3, then 205h+153,
	# 205 = 5^-1 mod 256): 10.0.1.2 (h=2) -> 13 -> 12, so b must see 150.24.1.12
	out=$(ctl "$SOCK" $'apply\npage 10.0.1.0/24 wan 150.24.1.0/24 steps affine:5:3 xorshift:3 / xorshift-inv:3 affine:205:153\npage 10.0.2.0/24 pass\nend')
	check "apply with steps (affine + xorshift)" grep -q '"ok": true' <<<"$out"
	$B timeout 5 tcpdump -lni eth0 -c 2 icmp >"$T/tcpdump3-$be.txt" 2>/dev/null &
	tpid=$!
	sleep 0.5
	check "steps: ping a->b->a" $A ping -c1 -W1 10.0.2.2
	check "steps: UDP echo" bash -c "[ \"\$(echo hello-udp | $A socat -T1 - UDP:10.0.2.2:5000)\" = hello-udp ]"
	wait $tpid
	check "steps: b sees a as 150.24.1.12" grep -q '150.24.1.12 > 10.0.2.2' "$T/tcpdump3-$be.txt"
	out=$(ctl "$SOCK" $'apply\npage 10.0.0.0/16 wan 150.0.0.0/16 steps affine:3:0 / affine:43691:0\nend')
	if [ "$be" = nftables ]; then
		check "nftables refuses a /16 with steps" grep -q 'use --backend ebpf' <<<"$out"
	else
		check "ebpf takes a /16 with steps" grep -q '"ok": true' <<<"$out"
	fi
	out=$(ctl "$SOCK" $'apply\npage 10.0.1.0/24 wan 150.24.1.0/24 contiguous\npage 10.0.2.0/24 pass\npage 10.0.4.0/28 wan 150.24.4.0/28 steps affine:5:3 xorshift:2 / xorshift-inv:2 affine:13:9\nend')
	check "apply with steps (a /28)" grep -q '"ok": true' <<<"$out"
	out=$(ctl "$SOCK" $'apply\npage 10.0.4.0/28 wan 150.24.4.0/28 steps affine:5:3 / affine:5:3\nend')
	check "apply with wrong inverse steps is refused" grep -q 'do not undo' <<<"$out"

	# the agent dies: translation goes on; a new agent picks up the same rules
	local rules_before rules_after
	rules_before=$(ctl "$SOCK" rules)
	kill -9 $apid; wait $apid 2>/dev/null
	check "agent killed: ping a->b still works" $A ping -c2 -i0.2 -W1 10.0.2.2
	$R "$AG" --socket "$SOCK" --state "$ST" --backend "$be" --mark wlx-test --lan-if lan0 "${extra[@]}" >>"$T/agent-$be.log" 2>&1 &
	apid=$!
	PIDS+=($apid)
	for _ in $(seq 50); do ctl "$SOCK" health >/dev/null 2>&1 && break; sleep 0.1; done
	rules_after=$(ctl "$SOCK" rules)
	check "restarted agent has the same rules" test "$rules_before" = "$rules_after"
	check "restarted agent: ping a->b" $A ping -c1 -W1 10.0.2.2
	say "  health: $(ctl "$SOCK" health)"
	say "  counters: $(ctl "$SOCK" counters)"

	kill $apid; wait $apid 2>/dev/null
	$R "$AG" --cleanup --state "$ST" >>"$T/agent-$be.log" 2>&1
	check "cleanup: no bpffs mount left" bash -c "! mount | grep -q ' $ST/'"
	check "cleanup: state dir removed" test ! -e "$ST"
	if [ "$be" = ebpf ]; then
		check "cleanup: no tc filter on lan0" bash -c "[ -z \"\$($R tc filter show dev lan0 ingress)\" ]"
	else
		check "cleanup: no nft table" bash -c "! $R nft list table ip warplab_xlate"
	fi
	check "cleanup: plain forwarding again (a->b untranslated)" $A ping -c1 -W1 10.0.2.2
	if [ "${VERBOSE:-}" ]; then grep -v ' switch: ' "$T/agent-$be.log" | sed 's/^/  log: /'; fi
}

setup_net
for be in $BACKENDS; do run_backend "$be"; done
say "== $FAILS failure(s)"
[ "$FAILS" = 0 ]
