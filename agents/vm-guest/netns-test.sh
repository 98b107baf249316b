#!/usr/bin/env bash
# End-to-end test of the VM guest: QEMU live migration between two emulated hypervisors
# (root only). Everything it creates is named h2-* and removed on exit.
#
#            h2-cl (client 172.16.0.100/16)
#                 |
#            h2-lan (bridge br0: the shared VM LAN)
#             /            \
#   h2-hv1: br0 = up0 + tap0      h2-hv2: br0 = up0 + tap0     (QEMU runs inside, on tap0)
#        mig0 192.0.2.1/24 ---------- mig0 192.0.2.2/24        (migration network)
#
# The VM (172.16.10.2/16) sends a 1 ms UDP stream to the client (port 5001) and echoes the
# client's 1 ms stream (client -> VM:5000 -> client:5002), so every arrival time is taken on
# the client's clock. The script boots the VM in hv1, checks both streams, then migrates it
# MIGRATIONS times back and forth (QMP over a unix socket: migrate-set-parameters
# downtime-limit, migrate, query-migrate), checks the RARP announcement on the destination's
# bridge and that both streams continue, and prints per migration QEMU's total time, downtime
# and bytes, STOP->RESUME from QMP event times, and the largest client-side gaps.
#
# Usage: bash agents/vm-guest/netns-test.sh          (make -C agents first)
# Environment: MIGRATIONS=3 INTERVAL_US=1000 DOWNTIME_LIMIT_MS=100 MEM_MB=256
#   KERNEL=PATH (default agents/build/vm-guest/vmlinux; .../vmlinuz boots ~2.5 s slower under TCG)
#   ACCEL=tcg|kvm|auto (auto: KVM only if a 2 s probe VM boots with it, else TCG)
#   KEEP=1 keeps the temporary folder (logs) and prints its path. VERBOSE=1 prints the serial logs.
# Needs: qemu-system-x86_64, iproute2, tcpdump, /usr/bin/python3 (QMP and log analysis).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$HERE/../build
GUEST=$BUILD/vm-guest
MIGRATIONS=${MIGRATIONS:-3}
INTERVAL_US=${INTERVAL_US:-1000}
DOWNTIME_LIMIT_MS=${DOWNTIME_LIMIT_MS:-100}
MEM_MB=${MEM_MB:-256}
ACCEL=${ACCEL:-tcg}
KERNEL=${KERNEL:-$GUEST/vmlinux}
PY=/usr/bin/python3
VM_IP=172.16.10.2 CLIENT_IP=172.16.0.100 VM_MAC=52:54:00:10:0a:02
MIG_PORT=4444

[ "$(id -u)" = 0 ] || { echo "netns-test: needs root" >&2; exit 2; }
for f in "$KERNEL" "$GUEST/initramfs.cpio.gz" "$BUILD/udp-send" "$BUILD/udp-recv"; do
	[ -r "$f" ] || { echo "netns-test: build $f first (make -C agents)" >&2; exit 2; }
done
for c in qemu-system-x86_64 tcpdump ip nsenter; do command -v $c >/dev/null || { echo "netns-test: needs $c" >&2; exit 2; }; done
[ -x $PY ] || { echo "netns-test: needs $PY" >&2; exit 2; }

T=$(mktemp -d /tmp/h2-vmguest.XXXXXX)
FAILS=0
PIDS=()
NSS=(h2-lan h2-hv1 h2-hv2 h2-cl)
CL="nsenter --net=/run/netns/h2-cl"

say() { printf '%s\n' "$*"; }
check() { # name, then a command that must succeed
	local name=$1; shift
	if "$@" >/dev/null 2>&1; then say "  ok   $name"; else say "  FAIL $name"; FAILS=$((FAILS + 1)); fi
}
now_ns() { date +%s%N; }
ms_since() { echo $((($(now_ns) - $1) / 1000000)); }

teardown() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
	done
	for n in "${NSS[@]}"; do ip netns del "$n" 2>/dev/null; done
	for l in h2-hv1-up h2-hv2-up h2-cl-up h2-mig1; do ip link del "$l" 2>/dev/null; done
	if [ -n "${KEEP:-}" ]; then say "logs kept in $T"; else rm -rf "$T"; fi
}
trap teardown EXIT
trap "exit 130" INT TERM

cat >"$T/qmp.py" <<'EOF'
# QMP client: migrate SRC DST URI DOWNTIME_MS | quit SOCK | status SOCK
import json, socket, sys, time
class QMP:
    def __init__(self, path, timeout=60):
        deadline = time.time() + 10
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.s.connect(path)
                break
            except OSError:
                self.s.close()
                if time.time() > deadline: raise
                time.sleep(0.05)
        self.s.settimeout(timeout)
        self.f = self.s.makefile('rwb')
        self.events = []
        self.read()  # greeting
        self.cmd('qmp_capabilities')
    def read(self):
        line = self.f.readline()
        if not line: raise EOFError('QEMU closed the QMP socket')
        return json.loads(line)
    def cmd(self, name, **args):
        m = {'execute': name}
        if args: m['arguments'] = args
        self.f.write(json.dumps(m).encode() + b'\n'); self.f.flush()
        while True:
            r = self.read()
            if 'event' in r: self.events.append(r); continue
            if 'error' in r: raise RuntimeError('%s: %s' % (name, r['error'].get('desc')))
            return r['return']
    def wait_event(self, name, timeout):
        deadline = time.time() + timeout
        while not any(e['event'] == name for e in self.events):
            left = deadline - time.time()
            if left <= 0: return None
            self.s.settimeout(left)
            try: r = self.read()
            except socket.timeout: return None
            if 'event' in r: self.events.append(r)
        return next(e for e in self.events if e['event'] == name)
def ts(e): return e['timestamp']['seconds'] * 1e3 + e['timestamp']['microseconds'] / 1e3
op = sys.argv[1]
if op == 'status':
    print(QMP(sys.argv[2]).cmd('query-status')['status'])
elif op == 'quit':
    try: QMP(sys.argv[2], 5).cmd('quit')
    except EOFError: pass
elif op == 'migrate':
    src, dst = QMP(sys.argv[2]), QMP(sys.argv[3])
    st = dst.cmd('query-status')['status']
    if st != 'inmigrate': sys.exit('destination is %s, not inmigrate' % st)
    src.cmd('migrate-set-parameters', **{'downtime-limit': int(sys.argv[5])})
    t0 = time.time_ns()
    src.cmd('migrate', uri=sys.argv[4])
    while True:  # "completed" may come first with zero times: ask again
        r = src.cmd('query-migrate')
        if r.get('status') in ('failed', 'cancelled'): sys.exit('migration %s: %s' % (r['status'], json.dumps(r)))
        if r.get('status') == 'completed' and r.get('total-time'): break
        time.sleep(0.01)
    t1 = time.time_ns()
    stop = src.wait_event('STOP', 5)
    resume = dst.wait_event('RESUME', 10)
    out = {'t0_ns': t0, 't1_ns': t1, 'total_ms': r['total-time'], 'downtime_ms': r.get('downtime'),
           'setup_ms': r.get('setup-time'), 'transferred': r['ram']['transferred'],
           'ram_total': r['ram']['total'], 'dirty_sync': r['ram'].get('dirty-sync-count'),
           'stop_ms': ts(stop) if stop else None, 'resume_ms': ts(resume) if resume else None,
           'stop_to_resume_ms': round(ts(resume) - ts(stop), 1) if stop and resume else None,
           'dst_status': dst.cmd('query-status')['status']}
    print(json.dumps(out))
EOF
qmp() { $PY "$T/qmp.py" "$@"; }

cat >"$T/gaps.py" <<'EOF'
# gaps.py LOG T0_NS T1_NS [PAD_BEFORE_S PAD_AFTER_S [REF_NS]]: largest receive gap and seq holes of
# the records received in [T0 - before, T1 + after]; T0 = T1 = 0 means the whole log. The gap's
# start is given relative to REF (default T0).
import struct, sys
d = open(sys.argv[1], 'rb').read()[64:]
n = len(d) // 24
recs = [struct.unpack_from('<IIqq', d, i * 24) for i in range(n)]
t0, t1 = int(sys.argv[2]), int(sys.argv[3])
before = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0
after = float(sys.argv[5]) if len(sys.argv) > 5 else 3.0
ref = int(sys.argv[6]) if len(sys.argv) > 6 else t0
if t0 or t1:
    recs = [r for r in recs if t0 - before * 1e9 <= r[3] <= t1 + after * 1e9]
if len(recs) < 2:
    print('records=%d largest_gap_ms=nan lost=nan gap_start_ms=nan' % len(recs)); sys.exit(0)
recs.sort(key=lambda r: r[3])
g, at = max((recs[i + 1][3] - recs[i][3], recs[i][3]) for i in range(len(recs) - 1))
seqs = sorted(set(r[0] for r in recs))
lost = seqs[-1] - seqs[0] + 1 - len(seqs)
print('records=%d largest_gap_ms=%.1f lost=%d gap_start_ms=%+.0f' % (len(recs), g / 1e6, lost, (at - ref) / 1e6 if ref else 0))
EOF
gaps() { $PY "$T/gaps.py" "$@"; }
records() { echo $((($(stat -c %s "$1") - 64) / 24)); }

setup_net() {
	local n
	for n in "${NSS[@]}"; do ip netns add "$n" || return 1; ip -n "$n" link set lo up; done
	ip -n h2-lan link add br0 type bridge
	ip -n h2-lan link set br0 up
	for n in hv1 hv2 cl; do # one uplink per node into the LAN bridge
		ip link add "h2-$n-up" type veth peer name "h2-$n-lan" || return 1
		ip link set "h2-$n-lan" netns h2-lan name "$n"
		ip -n h2-lan link set "$n" master br0 up
	done
	for n in hv1 hv2; do # a hypervisor: bridge = uplink + the VM's tap
		ip link set "h2-$n-up" netns "h2-$n" name up0
		ip -n "h2-$n" link add br0 type bridge
		ip -n "h2-$n" tuntap add dev tap0 mode tap
		ip -n "h2-$n" link set up0 master br0 up
		ip -n "h2-$n" link set tap0 master br0 up
		ip -n "h2-$n" link set br0 up
	done
	ip link set h2-cl-up netns h2-cl name eth0
	ip -n h2-cl addr add $CLIENT_IP/16 dev eth0
	ip -n h2-cl link set eth0 up
	ip link add h2-mig1 type veth peer name h2-mig2 || return 1
	ip link set h2-mig1 netns h2-hv1 name mig0
	ip link set h2-mig2 netns h2-hv2 name mig0
	ip -n h2-hv1 addr add 192.0.2.1/24 dev mig0
	ip -n h2-hv2 addr add 192.0.2.2/24 dev mig0
	ip -n h2-hv1 link set mig0 up
	ip -n h2-hv2 link set mig0 up
}

# KVM only where it really works. Here (a PVM-based /dev/kvm, no VT-x) /dev/kvm exists, but
# -cpu host aborts at once (failed to set MSR 0x10a) and -cpu qemu64 runs: SeaBIOS needs
# 3.6-5 s instead of 0.09 s under TCG and a Linux guest prints nothing in 60 s. Two cheap
# tests: the CPU must show vmx or svm, and a BIOS-only VM (no disk, SeaBIOS log on the debug
# port) must get to "Booting from"/"No bootable device" within 2 s under KVM.
kvm_works() {
	KVM_WHY=
	if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then KVM_WHY="no usable /dev/kvm"; return 1; fi
	if ! grep -qwE 'vmx|svm' /proc/cpuinfo; then
		KVM_WHY="/dev/kvm exists but the CPU has no vmx/svm flag (emulated or PVM KVM: far slower than TCG)"
		return 1
	fi
	local log=$T/kvm-probe.log t0 p ms
	t0=$(now_ns)
	timeout 2 qemu-system-x86_64 -accel kvm -cpu host -m 16 -nodefaults -no-user-config -display none \
		-chardev "file,id=dbg,path=$log" -device isa-debugcon,iobase=0x402,chardev=dbg >"$T/kvm-probe.err" 2>&1 &
	p=$!
	PIDS+=($p)
	while kill -0 $p 2>/dev/null; do
		grep -qE 'Booting from|No bootable device' "$log" 2>/dev/null && break
		sleep 0.02
	done
	ms=$(ms_since "$t0")
	kill $p 2>/dev/null
	wait $p 2>/dev/null
	grep -qE 'Booting from|No bootable device' "$log" 2>/dev/null && return 0
	KVM_WHY="a BIOS-only KVM VM did not finish its BIOS within 2 s ($ms ms; $(head -c 200 "$T/kvm-probe.err" | tr '\n' ' '))"
	return 1
}
KVM_WHY=
case $ACCEL in
auto) if kvm_works; then ACCEL=kvm; else ACCEL=tcg; fi ;;
tcg | kvm) ;;
*) echo "netns-test: ACCEL is tcg, kvm or auto" >&2; exit 2 ;;
esac
if [ "$ACCEL" = kvm ]; then CPU=host; else CPU=qemu64; fi

# qemu_argv HOST(hv1|hv2) NAME: the same command line on both sides, plus -incoming on the destination
qemu_argv() {
	QEMU=(qemu-system-x86_64 -accel "$ACCEL" -cpu "$CPU" -m "$MEM_MB" -nodefaults -no-user-config
		-display none -no-reboot -serial "file:$T/serial-$2.log"
		-kernel "$KERNEL" -initrd "$GUEST/initramfs.cpio.gz"
		-append "console=ttyS0 quiet panic=-1 warplab.ip=$VM_IP/16 warplab.peer=$CLIENT_IP warplab.interval-us=$INTERVAL_US"
		-netdev tap,id=n0,ifname=tap0,script=no,downscript=no,vhost=off
		-device "virtio-net-pci,netdev=n0,mac=$VM_MAC"
		-qmp "unix:$T/qmp-$2.sock,server=on,wait=off")
}
start_qemu() { # HOST NAME [-incoming URI]: sets QPID
	local host=$1 name=$2
	shift 2
	qemu_argv "$host" "$name"
	nsenter --net="/run/netns/h2-$host" "${QEMU[@]}" "$@" >"$T/qemu-$name.out" 2>&1 &
	QPID=$!
	PIDS+=($QPID)
	echo "${QEMU[*]} $*" >"$T/argv-$name.txt"
}
stop_pid() { # graceful, then hard
	kill "$1" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
	kill -9 "$1" 2>/dev/null
}

[ -n "$KVM_WHY" ] && say "== accelerator auto -> tcg: $KVM_WHY"
say "== setup (accelerator $ACCEL, cpu $CPU, ${MEM_MB} MB, interval ${INTERVAL_US} us, downtime-limit ${DOWNTIME_LIMIT_MS} ms)"
setup_net || { say "FAIL: network setup"; exit 1; }

# the client: receiver of the VM's stream, receiver of the echo, sender to the echo
$CL "$BUILD/udp-recv" --port 5001 --out "$T/vm-stream.bin" --duration 900 2>"$T/vm-stream.err" & PIDS+=($!)
$CL "$BUILD/udp-recv" --port 5002 --out "$T/echo.bin" --duration 900 2>"$T/echo.err" & PIDS+=($!)

say "== boot in hv1"
B0=$(now_ns)
start_qemu hv1 boot
CUR_PID=$QPID CUR_HOST=hv1 CUR_NAME=boot
READY=
for _ in $(seq 1200); do # 60 s
	if grep -q 'warplab-guest: ready' "$T/serial-boot.log" 2>/dev/null; then READY=$(ms_since "$B0"); break; fi
	kill -0 "$CUR_PID" 2>/dev/null || break
	sleep 0.05
done
if [ -z "$READY" ]; then
	say "FAIL: no 'warplab-guest: ready' within 60 s; serial log:"
	sed 's/^/  | /' "$T/serial-boot.log" "$T/qemu-boot.out" 2>/dev/null
	exit 1
fi
say "  boot to ready: ${READY} ms (QEMU start -> ready line in the serial log)"
sed 's/^/  | /' "$T/serial-boot.log"
$CL "$BUILD/udp-send" --to $VM_IP --port 5000 --interval-us "$INTERVAL_US" --stream 2 --duration 900 >"$T/client-send.json" 2>&1 & SEND_PID=$!
PIDS+=($SEND_PID)
BASE0=$(now_ns)
sleep 3
a=$(records "$T/vm-stream.bin") b=$(records "$T/echo.bin")
check "VM -> client stream arrives ($a records)" test "$a" -gt 1000
check "client -> VM -> client echo works ($b records)" test "$b" -gt 1000
say "  before any migration (3 s), VM->client:         $(gaps "$T/vm-stream.bin" "$BASE0" "$(now_ns)" 0 0)"
say "  before any migration (3 s), client->VM->client: $(gaps "$T/echo.bin" "$BASE0" "$(now_ns)" 0 0)"

RESULTS=()
for i in $(seq "$MIGRATIONS"); do
	if [ "$CUR_HOST" = hv1 ]; then DST=hv2 DST_IP=192.0.2.2; else DST=hv1 DST_IP=192.0.2.1; fi
	say "== migration $i: $CUR_HOST -> $DST"
	ip netns exec "h2-$DST" tcpdump -lnei br0 -tt rarp >"$T/rarp-$i.txt" 2>"$T/rarp-$i.err" & TD=$!
	PIDS+=($TD)
	for _ in $(seq 100); do grep -q 'listening on' "$T/rarp-$i.err" && break; sleep 0.05; done
	D0=$(now_ns)
	start_qemu "$DST" "m$i" -incoming "tcp:$DST_IP:$MIG_PORT"
	DST_PID=$QPID
	for _ in $(seq 200); do [ "$(qmp status "$T/qmp-m$i.sock" 2>/dev/null)" = inmigrate ] && break; sleep 0.05; done
	say "  destination waiting for the migration after $(ms_since "$D0") ms"
	if ! qmp migrate "$T/qmp-$CUR_NAME.sock" "$T/qmp-m$i.sock" "tcp:$DST_IP:$MIG_PORT" "$DOWNTIME_LIMIT_MS" >"$T/migrate-$i.json" 2>"$T/migrate-$i.err"; then
		say "  FAIL migrate: $(cat "$T/migrate-$i.err")"
		FAILS=$((FAILS + 1))
		break
	fi
	say "  qmp: $(cat "$T/migrate-$i.json")"
	sleep 1.2 # the RARPs at +0, +50, +200, +450, +800 ms
	kill "$TD" 2>/dev/null; wait "$TD" 2>/dev/null
	check "RARP with the VM's MAC on $DST's bridge ($(grep -c "$VM_MAC" "$T/rarp-$i.txt") seen)" grep -q "Reverse.*$VM_MAC" "$T/rarp-$i.txt"
	qmp quit "$T/qmp-$CUR_NAME.sock" 2>/dev/null
	stop_pid "$CUR_PID"
	wait "$CUR_PID" 2>/dev/null
	CUR_PID=$DST_PID CUR_HOST=$DST CUR_NAME=m$i
	a=$(records "$T/vm-stream.bin") b=$(records "$T/echo.bin")
	sleep 1
	a2=$(records "$T/vm-stream.bin") b2=$(records "$T/echo.bin")
	check "stream continues from $DST after the source quit (+$((a2 - a)) in 1 s)" test $((a2 - a)) -gt 300
	check "echo continues from $DST (+$((b2 - b)) in 1 s)" test $((b2 - b)) -gt 300
	RESULTS+=("$i $(cat "$T/migrate-$i.json")")
	first_rarp=$(awk 'NR == 1 {print $1}' "$T/rarp-$i.txt")
	echo "$first_rarp" >"$T/rarp-first-$i.txt"
done

sleep 0.5
kill "$SEND_PID" 2>/dev/null; wait "$SEND_PID" 2>/dev/null
sleep 0.2
qmp quit "$T/qmp-$CUR_NAME.sock" 2>/dev/null
stop_pid "$CUR_PID"

say "== results (client clock; largest gap within [migrate - 1 s, completed + 3 s], its start relative to STOP)"
printf '  %-3s %-9s %-9s %-9s %-12s %-12s %-32s %-32s %s\n' '#' total_ms down_ms setup_ms stop-res_ms transferred 'VM->client' 'client->VM->client' 'first RARP after RESUME'
for r in "${RESULTS[@]}"; do
	i=${r%% *} j=${r#* }
	read -r t0 t1 total down setup s2r xfer resume stop < <($PY -c "import json,sys; d=json.loads(sys.argv[1]); print(d['t0_ns'], d['t1_ns'], d['total_ms'], d['downtime_ms'], d['setup_ms'], d['stop_to_resume_ms'], d['transferred'], d['resume_ms'], int((d['stop_ms'] or 0) * 1e6))" "$j")
	short='s/records=[0-9]+ largest_gap_ms=([0-9.na]+) lost=([0-9na]+) gap_start_ms=(.*)/gap \1 ms @\3 lost \2/'
	gv=$(gaps "$T/vm-stream.bin" "$t0" "$t1" 1 3 "$stop" | sed -E "$short")
	ge=$(gaps "$T/echo.bin" "$t0" "$t1" 1 3 "$stop" | sed -E "$short")
	fr=$(cat "$T/rarp-first-$i.txt")
	rr=$([ -n "$fr" ] && [ "$resume" != None ] && $PY -c "print('%.1f ms' % ($fr * 1e3 - $resume))" || echo '?')
	printf '  %-3s %-9s %-9s %-9s %-12s %-12s %-32s %-32s %s\n' "$i" "$total" "$down" "$setup" "$s2r" "$xfer" "$gv" "$ge" "$rr"
done
say "  whole run, VM->client:         $(gaps "$T/vm-stream.bin" 0 0)"
say "  whole run, client->VM->client: $(gaps "$T/echo.bin" 0 0)"
say "  client sender: $(tail -1 "$T/client-send.json")"
say "  argv (source):      $(cat "$T/argv-boot.txt")"
[ -f "$T/argv-m1.txt" ] && say "  argv (destination): $(cat "$T/argv-m1.txt")"
if [ -n "${VERBOSE:-}" ]; then for f in "$T"/serial-*.log; do say "-- $f"; sed 's/^/  | /' "$f"; done; fi
check "no failure or restart in the guest's serial logs" bash -c "! cat '$T'/serial-*.log | grep -E 'FAILED|exited|panic|Oops'"
check "$MIGRATIONS migrations done" test "${#RESULTS[@]}" = "$MIGRATIONS"
say "== $FAILS failure(s)"
[ "$FAILS" = 0 ]
