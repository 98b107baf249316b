#!/usr/bin/env bash
# End-to-end test of wl-watch with real translator agents, in network namespaces (root only):
#
#   h3-N-vm (eth0, the "VM": scapy sends QEMU-like RARP, gratuitous ARP, foreign frames)
#     |  veth
#   h3-N-hv  vm0 --[br0]-- up0        (the destination hypervisor: wl-watch listens here)
#                           |  veth
#   h3-N-r1  lan0 (agent 1) wan0 --veth-- wan0 h3-N-r2 (agent 2) lan0 (veth to lan0p)
#
# The agents (agents/build/xlate-agent) hold page 10.0.1.0/24 -> 150.24.1.0/24; wl-watch's
# switch moves 10.0.1.5/32 to 150.24.9.5 (or back to 150.24.8.5, alternating). Checks: the
# trigger kinds, the MAC filter (a foreign RARP is ignored and counted), listening on the
# bridge / the VM's port / the uplink (outgoing frames), a real QEMU's RARP (QMP announce-self),
# the agents' rules after a switch,
# exit codes (timeout 2, dead agent socket 3, refused request 3, bad interface 1, SIGTERM 0),
# a held connection surviving an agent restart. Then it measures over RUNS runs
# (default 50) the time from the announcement's kernel receive timestamp to the last switch
# answer, with 1 and 2 agents, held vs connect-on-trigger, pipelined vs serial.
#
# Usage: bash agents/watcher/netns-test.sh [ebpf|nftables]   (make -C agents first)
# RUNS=N changes the number of measured runs; KEEP=1 keeps the work folder (printed);
# WATCH_PREFIX / AGENT_PREFIX put a command before wl-watch / the agents (e.g. "taskset -c 0",
# "chrt -f 10"); WATCH_OPTS adds wl-watch options to the measured runs (e.g. "--rt-prio 10").
# Needs: iproute2, /usr/bin/python3 with scapy (python3-scapy), python3. With
# qemu-system-x86_64 present it also checks a real QEMU's announcement (QEMU_CHECK=0: skip).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$HERE/../build
W=$BUILD/wl-watch
AG=$BUILD/xlate-agent
BACKEND=${1:-ebpf}
RUNS=${RUNS:-50}
[ "$(id -u)" = 0 ] || { echo "netns-test: needs root" >&2; exit 2; }
for t in "$W" "$AG"; do [ -x "$t" ] || { echo "netns-test: build $t first (make -C agents)" >&2; exit 2; }; done
/usr/bin/python3 -c 'import scapy' 2>/dev/null || { echo "netns-test: needs /usr/bin/python3 with scapy (apt-get install python3-scapy)" >&2; exit 2; }

N=$(($$ % 100000))
NS_VM=h3-$N-vm NS_HV=h3-$N-hv NS_R1=h3-$N-r1 NS_R2=h3-$N-r2
ALL_NS="$NS_VM $NS_HV $NS_R1 $NS_R2"
T=$(mktemp -d /tmp/h3-watch.XXXXXX)
MAC=52:54:00:3a:00:05
OTHER=52:54:00:3a:00:99
VMIP=10.0.1.5
S1=$T/r1.sock S2=$T/r2.sock
FAILS=0
PIDS=()
in_ns() { local ns=$1; shift; nsenter --net=/run/netns/"$ns" "$@"; }
# Background processes are started as plain commands (never through a shell function), so
# $! is the process itself: nsenter --net execs its command without forking.
WATCH_PREFIX=${WATCH_PREFIX:-} AGENT_PREFIX=${AGENT_PREFIX:-}
say() { printf '%s\n' "$*"; }
check() { # name, then a command that must succeed
	local name=$1; shift
	if "$@" >/dev/null 2>&1; then say "  ok   $name"; else say "  FAIL $name"; FAILS=$((FAILS + 1)); fi
}

teardown() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	[ -n "${SENDER_PID:-}" ] && kill "$SENDER_PID" 2>/dev/null
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	for st in "$T"/state-*; do [ -d "$st" ] && "$AG" --cleanup --state "$st" >>"$T/cleanup.log" 2>&1; done
	for n in $ALL_NS; do ip netns del "$n" 2>/dev/null; done
	if [ -n "${KEEP:-}" ]; then say "work folder kept: $T"; else rm -rf "$T"; fi
}
trap teardown EXIT
trap "exit 130" INT TERM

# ------------------------------------------------------------------ network
for n in $ALL_NS; do ip netns add "$n" || exit 2; ip -n "$n" link set lo up; done
ip link add h3w${N}a type veth peer name h3w${N}b
ip link set h3w${N}a netns $NS_VM name eth0
ip link set h3w${N}b netns $NS_HV name vm0
ip link add h3w${N}c type veth peer name h3w${N}d
ip link set h3w${N}c netns $NS_HV name up0
ip link set h3w${N}d netns $NS_R1 name lan0
ip link add h3w${N}e type veth peer name h3w${N}f
ip link set h3w${N}e netns $NS_R1 name wan0
ip link set h3w${N}f netns $NS_R2 name wan0
ip -n $NS_R2 link add lan0 type veth peer name lan0p # (no dummy driver in every kernel)
ip -n $NS_VM link set eth0 address $MAC
ip -n $NS_HV link add br0 type bridge forward_delay 0 stp_state 0
ip -n $NS_HV link set vm0 master br0
ip -n $NS_HV link set up0 master br0
for l in "$NS_VM eth0" "$NS_HV vm0" "$NS_HV up0" "$NS_HV br0" "$NS_R1 lan0" "$NS_R1 wan0" "$NS_R2 wan0" "$NS_R2 lan0" "$NS_R2 lan0p"; do
	set -- $l; ip -n "$1" link set "$2" up
done
ip -n $NS_R1 addr add 10.0.1.1/24 dev lan0
ip -n $NS_R1 addr add 10.0.2.1/24 dev wan0
ip -n $NS_R2 addr add 10.0.2.2/24 dev wan0
ip -n $NS_R2 addr add 10.0.3.1/24 dev lan0

# ------------------------------------------------------------------ agents
cat >"$T/ctl.py" <<'EOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(sys.argv[1]); f = s.makefile('rb')
for a in sys.argv[2:]:
    s.sendall(a.replace('\\n', '\n').encode() + b'\n'); print(f.readline().decode().strip())
EOF
ctl() { python3 "$T/ctl.py" "$@"; }
start_agent() { # ns socket state-name
	$AGENT_PREFIX nsenter --net=/run/netns/"$1" "$AG" --socket "$2" --state "$T/state-$3" --backend "$BACKEND" --mark h3-watch --lan-if lan0 >>"$T/agent-$3.log" 2>&1 &
	PIDS+=($!)
	eval "APID_$3=$!"
	for _ in $(seq 100); do ctl "$2" health >/dev/null 2>&1 && return 0; sleep 0.05; done
	say "agent $3 did not start:"; cat "$T/agent-$3.log"; exit 1
}
start_agent $NS_R1 "$S1" r1
start_agent $NS_R2 "$S2" r2
for s in "$S1" "$S2"; do
	out=$(ctl "$s" $'apply\npage 10.0.1.0/24 wan 150.24.1.0/24 contiguous\npage 10.0.2.0/24 pass\npage 10.0.3.0/24 pass\nend')
	grep -q '"ok":true' <<<"$out" || { say "apply failed on $s: $out"; exit 1; }
done
say "== agents: backend $BACKEND, $(ctl "$S1" health)"

# ------------------------------------------------------------------ the VM's frames (scapy)
cat >"$T/sender.py" <<'EOF'
# Reads commands on stdin, sends one frame each on eth0, answers "sent".
import sys
from scapy.all import Ether, ARP, Raw, conf
conf.verb = 0
sock = conf.L2socket(iface='eth0')
BC, ZERO = 'ff:ff:ff:ff:ff:ff', '00:00:00:00:00:00'
def pad(f):  # real NICs/QEMU send 60-byte frames
    return f / Raw(b'\0' * max(0, 60 - len(f)))
print('ready', flush=True)
for line in sys.stdin:
    w = line.split()
    if not w:
        continue
    if w[0] == 'rarp':      # QEMU's announce_self: RARP request, op 3, sha=tha=MAC, spa=tpa=0
        mac = w[1]
        f = Ether(dst=BC, src=mac, type=0x8035) / ARP(hwtype=1, ptype=0x0800, hwlen=6, plen=4, op=3,
                                                      hwsrc=mac, psrc='0.0.0.0', hwdst=mac, pdst='0.0.0.0')
    elif w[0] == 'garp':    # gratuitous ARP request: spa == tpa
        f = Ether(dst=BC, src=w[1]) / ARP(op=1, hwsrc=w[1], psrc=w[2], hwdst=ZERO, pdst=w[2])
    elif w[0] == 'arpreq':  # an ordinary ARP request (not an announcement)
        f = Ether(dst=BC, src=w[1]) / ARP(op=1, hwsrc=w[1], psrc=w[2], hwdst=ZERO, pdst=w[3])
    elif w[0] == 'ip':      # an IPv4 frame: the BPF filter must not wake wl-watch for it
        f = Ether(dst=BC, src=w[1], type=0x0800) / Raw(b'\x45' + b'\0' * 40)
    else:
        print('bad command', flush=True); continue
    sock.send(pad(f))
    print('sent', flush=True)
EOF
coproc SENDER { exec nsenter --net=/run/netns/$NS_VM /usr/bin/python3 "$T/sender.py" 2>"$T/sender.err"; }
read -r -t 20 line <&"${SENDER[0]}"
[ "${line:-}" = ready ] || { say "scapy sender did not start:"; cat "$T/sender.err"; exit 1; }
send() { echo "$*" >&"${SENDER[1]}"; read -r -t 5 _ <&"${SENDER[0]}"; }

# ------------------------------------------------------------------ helpers
WPID=
watch_start() { # out-file, then wl-watch arguments (run in the hypervisor namespace)
	local out=$1; shift
	$WATCH_PREFIX nsenter --net=/run/netns/$NS_HV "$W" "$@" >"$out" 2>"$out.err" &
	WPID=$!
	for _ in $(seq 500); do
		grep -q '"event":"ready"' "$out" 2>/dev/null && return 0
		kill -0 $WPID 2>/dev/null || return 1
		sleep 0.01
	done
	return 1
}
watch_end() { local rc; wait "$WPID"; rc=$?; WPID=; return $rc; }
ev() { # file event field: prints the field of the first such event
	python3 -c "
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e['event'] == sys.argv[2]:
        v = e
        for k in sys.argv[3].split('.'): v = v[k] if k else v
        print(json.dumps(v) if not isinstance(v, str) else v); break" "$@"
}
valid_json_lines() { python3 -c "
import json, sys
for l in open(sys.argv[1]): json.loads(l)" "$1"; }
SW_A="switch $VMIP/32 wan 150.24.9.5/32 contiguous"
SW_B="switch $VMIP/32 wan 150.24.8.5/32 contiguous"

# ------------------------------------------------------------------ functional checks
say "== trigger on QEMU-like RARP (bridge br0), foreign frames ignored"
O=$T/t1.json
watch_start "$O" --iface br0 --mac $MAC --switch "$S1" "$SW_A" --switch "$S2" "$SW_A" --timeout-s 10
send rarp $OTHER
send ip $MAC
send arpreq $MAC $VMIP 10.0.1.1
sleep 0.05
check "still waiting after a foreign RARP, an IPv4 frame and a plain ARP request" kill -0 $WPID
send rarp $MAC
watch_end; rc=$?
check "exit 0 (got $rc)" test $rc = 0
check "output is JSON lines" valid_json_lines "$O"
check "announce: kind rarp" test "$(ev "$O" announce kind)" = rarp
check "announce: mac" test "$(ev "$O" announce mac)" = $MAC
check "announce: ip null (RARP request)" test "$(ev "$O" announce ip)" = null
check "announce: op 3, direction in" test "$(ev "$O" announce op)/$(ev "$O" announce direction)" = 3/in
check "announce: kernel timestamp" test "$(ev "$O" announce kernel_ts)" = true
check "announce: ignored = 2 (foreign RARP + plain ARP; IPv4 never reaches it) (got $(ev "$O" announce ignored))" test "$(ev "$O" announce ignored)" = 2
check "two switched events" test "$(grep -c '"event":"switched"' "$O")" = 2
check "reply embedded as JSON" test "$(ev "$O" switched reply.ok)" = true
check "done: switched 2 failed 0" test "$(ev "$O" done switched)/$(ev "$O" done failed)" = 2/0
check "agent 1 rules show the switched page" bash -c "python3 '$T/ctl.py' '$S1' rules | grep -q '10.0.1.5/32 wan 150.24.9.5/32'"
check "agent 2 rules show the switched page" bash -c "python3 '$T/ctl.py' '$S2' rules | grep -q '10.0.1.5/32 wan 150.24.9.5/32'"
say "  $(grep announce "$O")"
say "  $(grep switched "$O" | head -1)"
say "  $(grep '"done"' "$O")"

say "== gratuitous ARP on the VM's port (vm0)"
O=$T/t2.json
watch_start "$O" --iface vm0 --mac $MAC --switch "$S1" "$SW_B" --timeout-s 10
send garp $MAC $VMIP
watch_end; rc=$?
check "exit 0 (got $rc)" test $rc = 0
check "announce: kind garp, ip $VMIP" test "$(ev "$O" announce kind)/$(ev "$O" announce ip)" = garp/$VMIP
check "agent 1 rules show the page switched back" bash -c "python3 '$T/ctl.py' '$S1' rules | grep -q '10.0.1.5/32 wan 150.24.8.5/32'"

say "== on the uplink (up0: the announcement leaves the hypervisor)"
O=$T/t3.json
watch_start "$O" --iface up0 --mac $MAC --kinds rarp --timeout-s 10
send garp $MAC $VMIP
sleep 0.05
check "--kinds rarp: a gratuitous ARP does not trigger" kill -0 $WPID
send rarp $MAC
watch_end; rc=$?
check "exit 0 without --switch (got $rc)" test $rc = 0
check "announce: direction out" test "$(ev "$O" announce direction)" = out
check "done: switched 0, total_ns null" test "$(ev "$O" done switched)/$(ev "$O" done total_ns)" = 0/null

say "== --kinds arp: any ARP from the MAC"
O=$T/t4.json
watch_start "$O" --iface br0 --mac $MAC --kinds arp --timeout-s 10
send arpreq $MAC $VMIP 10.0.1.1
watch_end; rc=$?
check "exit 0, kind arp (got $rc, $(ev "$O" announce kind))" test "$rc/$(ev "$O" announce kind)" = 0/arp

say "== failures and exit codes"
O=$T/t5.json
watch_start "$O" --iface br0 --mac $MAC --timeout-s 1
watch_end; rc=$?
check "timeout: exit 2 (got $rc)" test $rc = 2
check "timeout: last event is timeout" bash -c "tail -1 '$O' | grep -q '\"event\":\"timeout\"'"

O=$T/t6.json
watch_start "$O" --iface br0 --mac $MAC --switch "$S1" "$SW_A" --switch "$T/dead.sock" "$SW_A" --timeout-s 10
check "dead socket reported at start (socket-down before ready)" bash -c "head -1 '$O' | grep -q '\"event\":\"socket-down\"'"
send rarp $MAC
watch_end; rc=$?
check "dead agent socket: exit 3 (got $rc)" test $rc = 3
check "good agent still switched" test "$(ev "$O" switched socket)" = "$S1"
check "switch-failed names the socket and the error ($(ev "$O" switch-failed error))" bash -c "grep '\"event\":\"switch-failed\"' '$O' | grep -q 'dead.sock.*No such file'"

O=$T/t7.json
watch_start "$O" --iface br0 --mac $MAC --switch "$S1" "switch 10.0.1.5/24 pass" --timeout-s 10
send rarp $MAC
watch_end; rc=$?
check "request refused by the agent: exit 3 (got $rc)" test $rc = 3
check "switch-failed carries the agent's reply" test "$(ev "$O" switch-failed reply.ok)" = false

in_ns $NS_HV "$W" --iface eth9 --mac $MAC >"$T/t8.json" 2>"$T/t8.err"; rc=$?
check "bad interface: exit 1 (got $rc)" test $rc = 1
check "bad interface: message names it ($(cat "$T/t8.err"))" grep -q 'eth9: no such interface' "$T/t8.err"
"$W" --iface lo --mac 52:54:00 >/dev/null 2>"$T/t9.err"; rc=$?
check "bad MAC: exit 1 with a message (got $rc)" bash -c "[ $rc = 1 ] && grep -q 'not a MAC' '$T/t9.err'"
"$W" --iface lo --mac $MAC --switch "$S1" >/dev/null 2>&1; rc=$?
check "--switch without LINE: exit 1 (got $rc)" test $rc = 1

O=$T/t10.json
watch_start "$O" --iface br0 --mac $MAC --switch "$S1" "$SW_A"
kill -TERM $WPID
watch_end; rc=$?
check "SIGTERM: exit 0 (got $rc), last event stopped" bash -c "[ $rc = 0 ] && tail -1 '$O' | grep -q '\"event\":\"stopped\"'"

O=$T/t13.json
ip -n $NS_HV link set vm0 down
watch_start "$O" --iface vm0 --mac $MAC --timeout-s 10
sleep 0.05
check "interface down at start: warning event" grep -q '"event":"warning".*vm0 is down' "$O"
ip -n $NS_HV link set vm0 up
sleep 0.05
send garp $MAC $VMIP
watch_end; rc=$?
check "interface up again: the announcement is caught, exit 0 (got $rc)" test $rc = 0
check "every run ends with a terminal event (done/timeout/stopped/error)" bash -c "for f in '$T'/t*.json; do tail -1 \$f | grep -qE '\"event\":\"(done|timeout|stopped|error)\"' || exit 1; done"

say "== held connection across an agent restart"
O=$T/t11.json
watch_start "$O" --iface br0 --mac $MAC --switch "$S1" "$SW_B" --timeout-s 20
check "ready: 1 connection held" test "$(ev "$O" ready held)" = 1
kill "$APID_r1"; wait "$APID_r1" 2>/dev/null
sleep 0.1
check "agent stopped: socket-down reported" grep -q '"event":"socket-down"' "$O"
start_agent $NS_R1 "$S1" r1
sleep 0.7
check "agent back: socket-up reported" grep -q '"event":"socket-up"' "$O"
send rarp $MAC
watch_end; rc=$?
check "switch through the re-made connection: exit 0 (got $rc)" test $rc = 0
check "agent 1 rules show the switched page" bash -c "python3 '$T/ctl.py' '$S1' rules | grep -q '10.0.1.5/32 wan 150.24.8.5/32'"
O=$T/t12.json
watch_start "$O" --iface br0 --mac $MAC --switch "$S1" "$SW_A" --timeout-s 20
kill "$APID_r1"; wait "$APID_r1" 2>/dev/null
start_agent $NS_R1 "$S1" r1
send rarp $MAC # before wl-watch's reconnect (0.5 s): it connects on the trigger path
watch_end; rc=$?
check "agent restarted just before the trigger: exit 0 (got $rc)" test $rc = 0

# ------------------------------------------------------------------ real QEMU (optional)
# No guest needed: a VM with only a NIC, running (QEMU drops a stopped VM's frames) in
# SeaBIOS without option ROM; QMP announce-self sends what a migration's RESUME sends.
if command -v qemu-system-x86_64 >/dev/null && [ "${QEMU_CHECK:-1}" != 0 ]; then
	say "== real QEMU announcement (QMP announce-self, the same RARP as after a migration)"
	QMAC=52:54:00:3a:00:07
	ip -n $NS_HV tuntap add tap0 mode tap && ip -n $NS_HV link set tap0 master br0 && ip -n $NS_HV link set tap0 up
	nsenter --net=/run/netns/$NS_HV qemu-system-x86_64 -accel tcg -nodefaults -display none -m 64 \
		-qmp unix:"$T/qmp.sock",server=on,wait=off -netdev tap,id=n0,ifname=tap0,script=no,downscript=no \
		-device virtio-net-pci,netdev=n0,mac=$QMAC,romfile= >"$T/qemu.log" 2>&1 &
	QPID=$!
	PIDS+=($QPID)
	for _ in $(seq 100); do [ -S "$T/qmp.sock" ] && break; sleep 0.05; done
	O=$T/t20.json
	watch_start "$O" --iface br0 --mac $QMAC --switch "$S1" "$SW_A" --timeout-s 10
	python3 - "$T/qmp.sock" >"$T/qmp.out" 2>&1 <<'EOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile('rwb'); f.readline()
for c in ({'execute': 'qmp_capabilities'}, {'execute': 'announce-self', 'arguments': {'initial': 50, 'max': 550, 'rounds': 5, 'step': 100}}):
    f.write(json.dumps(c).encode() + b'\n'); f.flush(); print(f.readline().decode().strip())
EOF
	watch_end; rc=$?
	check "QEMU's RARP caught and switched: exit 0 (got $rc; qmp: $(tr '\n' ' ' <"$T/qmp.out"))" test $rc = 0
	check "QEMU's announcement: kind rarp, op 3" test "$(ev "$O" announce kind)/$(ev "$O" announce op)" = rarp/3
	say "  $(grep announce "$O")"
	kill $QPID; wait $QPID 2>/dev/null
	ip -n $NS_HV link del tap0
fi

# ------------------------------------------------------------------ measurements
say "== measurements: $RUNS runs each; announcement kernel timestamp -> last answer, us (min / median / p90 / max)"
measure() { # label, then wl-watch options (after --iface/--mac)
	local label=$1; shift
	local dir=$T/m-$(tr -c 'a-z0-9' _ <<<"$label")
	mkdir -p "$dir"
	for i in $(seq "$RUNS"); do
		local l=$SW_A; [ $((i % 2)) = 0 ] && l=$SW_B
		local args=() a
		for a in "$@"; do args+=("${a//@LINE@/$l}"); done
		watch_start "$dir/$i.json" --iface br0 --mac $MAC --timeout-s 10 ${WATCH_OPTS:-} "${args[@]}" || { say "  FAIL $label run $i: no ready"; FAILS=$((FAILS + 1)); continue; }
		send rarp $MAC
		watch_end || { say "  FAIL $label run $i: exit $?"; FAILS=$((FAILS + 1)); }
	done
	python3 - "$label" "$dir" <<'EOF'
import glob, json, statistics, sys
label, d = sys.argv[1], sys.argv[2]
tot, wake, rtt = [], [], []
for f in glob.glob(d + '/*.json'):
    ev = [json.loads(l) for l in open(f)]
    a = next(e for e in ev if e['event'] == 'announce'); done = next(e for e in ev if e['event'] == 'done')
    wake.append(a['seen_after_ns'] / 1e3)
    if done['failed'] or done['total_ns'] is None: continue
    tot.append(done['total_ns'] / 1e3)
    rtt += [e['rtt_ns'] / 1e3 for e in ev if e['event'] == 'switched']
def f(v):  # min / median / 90th percentile / max
    v = sorted(v)
    return '%4.0f / %4.0f / %5.0f / %6.0f' % (v[0], statistics.median(v), v[int(0.9 * (len(v) - 1))], v[-1]) if v else '-'
print('  %-28s total %s   (kernel->wl-watch %s; per-agent round trip %s)  n=%d/%d' % (label, f(tot), f(wake), f(rtt), len(tot), len(wake)))
EOF
}
# reference: the agent itself, from a Python client on a held connection
python3 - "$S1" "$SW_A" "$SW_B" <<'EOF'
import json, socket, statistics, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(sys.argv[1]); f = s.makefile('rb')
for gap, name in ((0.3, 'after 0.3 s idle'), (0, 'back to back')):
    rtt, kus = [], []
    for i in range(20):
        time.sleep(gap)
        t0 = time.perf_counter_ns(); s.sendall(sys.argv[2 + i % 2].encode() + b'\n'); r = json.loads(f.readline())
        rtt.append((time.perf_counter_ns() - t0) / 1e3); kus.append(r['kernel_us'])
    print('  agent switch from Python, %-16s round trip %4.0f / %4.0f / %5.0f us, kernel_us median %.0f' % (name, min(rtt), statistics.median(rtt), max(rtt), statistics.median(kus)))
EOF
measure "1 agent, held" --switch "$S1" @LINE@
measure "2 agents, held, pipelined" --switch "$S1" @LINE@ --switch "$S2" @LINE@
measure "2 agents, held, --serial" --switch "$S1" @LINE@ --switch "$S2" @LINE@ --serial
measure "1 agent, --connect-late" --switch "$S1" @LINE@ --connect-late
measure "2 agents, --connect-late" --switch "$S1" @LINE@ --switch "$S2" @LINE@ --connect-late
measure "no agent (capture only)"

say "== $FAILS failure(s)"
[ "$FAILS" = 0 ]
