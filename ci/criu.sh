#!/usr/bin/env bash
# Provides a CRIU >= 4.1 that can checkpoint a process here (container workloads), as root,
# idempotently. Debian 12's criu 3.17 fails on recent kernels (the [vvar_vclock] vDSO
# mapping, fixed in CRIU 4.1), so unless the distro criu works we build the one from
# Debian trixie's source archive (no other source is reachable) in a cache folder.
# The working CRIU is $CACHE/bin/criu, whose folder dockerd gets first on its PATH; that
# path is the last line printed on stdout. A second run takes a second or two.
# CRIU is optional: when none works, the reason goes to $CACHE/criu.unavailable (one line,
# read by `warplab up` and the tests) and the exit status is 3; setup goes on without it.
# Build deps come from ci/setup.sh's PACKAGES. Override the cache with WARPLAB_CACHE.
set -euo pipefail

CACHE=${WARPLAB_CACHE:-/var/cache/warplab}
WORK=$CACHE/criu
LINK=$CACHE/bin/criu
UNAVAILABLE=$CACHE/criu.unavailable
MIN=4.1
SRC_LIST=/etc/apt/sources.list.d/warplab-criu-src.sources

if [ "$(id -u)" -ne 0 ]; then
  echo "ci/criu.sh: run it as root (it writes $CACHE and an apt source list)" >&2
  exit 2
fi

log() { echo "criu: $*" >&2; }

# "Version: 4.1.1" → 4.1.1; empty when the binary does not run.
version_of() { "$1" --version 2>/dev/null | awk '/^Version:/ {print $2; exit}'; }

# How $1 can dump a process that holds a UDP socket here: prints "plain", or "no-hw-breakpoints"
# when it only works with CRIU_FAULT=130; fails when it cannot. `criu check` alone passes on
# Linux >= 6.16, where CRIU 4.1 fails to dump any inet socket (getsockopt SO_PASSCRED/
# SO_PASSSEC now answers EOPNOTSUPP for them). Some hypervisors (PVM) never fire ptrace
# hardware breakpoints: the parasite's last trap is then missed, the target runs on and the
# dump fails with "Task N is in unexpected state: 0 / Task exited with 0 / Can't stop daemon
# in parasite". CRIU_FAULT=130 (FI_NO_BREAKPOINTS) makes CRIU trace syscalls instead.
dump_mode() {
  local v
  v=$(version_of "$1")
  [ -n "$v" ] && dpkg --compare-versions "$v" ge "$MIN" && "$1" check >/dev/null 2>&1 || return 1
  if dumps_udp "$1"; then echo plain
  elif CRIU_FAULT=130 dumps_udp "$1"; then echo no-hw-breakpoints
  else return 1; fi
}

dumps_udp() {
  local img pid ok=1 i
  img=$(mktemp -d)
  # Its own session and no inherited fds: CI may run us in a PID namespace whose session
  # leader lies outside it, or hand us fds from another mount namespace, and CRIU refuses
  # to dump either. setsid does not fork here (a script's job leads no process group).
  # shellcheck disable=SC2016 # expanded by the inner bash
  setsid bash -c 'for f in /proc/self/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done 2>/dev/null
    exec 3<>/dev/udp/127.0.0.1/9 && exec sleep 5' </dev/null >/dev/null 2>&1 &
  pid=$!
  disown "$pid" # no "Killed" job notice when the dump ends it
  for i in $(seq 100); do # until bash has exec'd sleep with the socket open
    [ "$(cat /proc/$pid/comm 2>/dev/null)" = sleep ] && break
    sleep 0.01
  done
  # The dump kills the process when it succeeds; when the parasite's trap is missed, the
  # target runs on and the dump fails once its sleep ends (hence 5 s, not longer).
  "$1" dump -t "$pid" -D "$img" -o dump.log >/dev/null 2>&1 && ok=0
  [ $ok -eq 0 ] || { kill "$pid" 2>/dev/null; mkdir -p "$WORK"; cp "$img/dump.log" "$WORK/probe-dump.log" 2>/dev/null || true; }
  rm -rf "$img"
  return $ok
}

# $1: the criu binary; $2: its dump mode. Without hardware breakpoints the link is a
# two-line wrapper, so that runc (through dockerd's PATH) runs CRIU the same way.
publish() {
  mkdir -p "$(dirname "$LINK")"
  rm -f "$LINK" "$UNAVAILABLE"
  if [ "$2" = plain ]; then
    ln -s "$1" "$LINK"
    log "using $1 ($(version_of "$1"))"
  else
    printf '#!/bin/sh\n# warplab ci/criu.sh: ptrace hardware breakpoints do not fire on this machine\nCRIU_FAULT=130 exec %s "$@"\n' "$1" >"$LINK"
    chmod 755 "$LINK"
    log "using $1 ($(version_of "$1")) with CRIU_FAULT=130: ptrace hardware breakpoints do not fire on this machine (e.g. a PVM guest), so CRIU traces syscalls instead"
  fi
  echo "$LINK"
  exit 0
}

# No CRIU can checkpoint here: say why once, for `warplab up` and the tests, and go on.
unavailable() {
  mkdir -p "$CACHE"
  rm -f "$LINK"
  echo "$*" >"$UNAVAILABLE"
  log "unavailable: $*"
  exit 3
}
trap 'unavailable "ci/criu.sh failed at line $LINENO (see $WORK/build.log)"' ERR

try() { # a candidate binary: publish it if it dumps here
  local mode
  if mode=$(dump_mode "$1"); then publish "$1" "$mode"; fi
}

# 1. What an earlier run (or the distro) already provides.
[ -x "$LINK" ] && "$LINK" --version >/dev/null 2>&1 && dumps_udp "$LINK" && { log "using $LINK"; rm -f "$UNAVAILABLE"; echo "$LINK"; exit 0; }
distro=$(command -v criu || true)
[ -z "$distro" ] || try "$distro"
[ -z "$distro" ] || log "distro $distro ($(version_of "$distro")) is older than $MIN, fails 'criu check' or a test dump: building one"

# 2. A build already in the cache (e.g. the link was removed).
for b in "$WORK"/criu-*/criu/criu; do
  [ ! -x "$b" ] || try "$b"
done

# Our own fix for CRIU 4.1 on Linux >= 6.16 (upstream fixed it after 4.1.1, criu#2705):
# SO_PASSCRED/SO_PASSSEC exist only for unix/netlink sockets there; read them as unset.
# Bump PATCH_LEVEL when this changes, so cached builds are redone.
PATCH_LEVEL=1
so_pass_patch() {
  cat <<'EOF'
--- a/criu/sockets.c
+++ b/criu/sockets.c
@@ -637,6 +637,17 @@
 	return 0;
 }
 
+static int dump_pass_opt(int sk, int name, int *val)
+{
+	socklen_t len = sizeof(*val);
+
+	*val = 0;
+	if (getsockopt(sk, SOL_SOCKET, name, val, &len) == 0 || errno == EOPNOTSUPP)
+		return 0;
+	pr_perror("Can't get %d:%d opt", SOL_SOCKET, name);
+	return -1;
+}
+
 int dump_socket_opts(int sk, SkOptsEntry *soe)
 {
 	int ret = 0, val;
@@ -676,11 +687,12 @@
 	soe->so_reuseport = val ? true : false;
 	soe->has_so_reuseport = true;
 
-	ret |= dump_opt(sk, SOL_SOCKET, SO_PASSCRED, &val);
+	/* Linux >= 6.16 answers EOPNOTSUPP for these outside AF_UNIX/NETLINK: unset there */
+	ret |= dump_pass_opt(sk, SO_PASSCRED, &val);
 	soe->has_so_passcred = true;
 	soe->so_passcred = val ? true : false;
 
-	ret |= dump_opt(sk, SOL_SOCKET, SO_PASSSEC, &val);
+	ret |= dump_pass_opt(sk, SO_PASSSEC, &val);
 	soe->has_so_passsec = true;
 	soe->so_passsec = val ? true : false;
 
EOF
}

# 3. Fetch Debian trixie's source, from the mirror this machine already uses.
mirror=$( { grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}'
            grep -hsE '^deb[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list |
              sed -E 's/\[[^]]*\]//' | awk '{print $2}'; } 2>/dev/null | grep -E '/debian/?$' | head -n1 || true)
mirror=${mirror:-http://deb.debian.org/debian}
cat >"$SRC_LIST" <<EOF
# Written by warplab ci/criu.sh: CRIU >= $MIN is built from trixie's source package.
Types: deb-src
URIs: $mirror
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF

mkdir -p "$WORK"
cd "$WORK"
have_orig() { compgen -G 'criu_*.orig.tar.*' >/dev/null; }
if ! have_orig; then
  log "fetching the criu source from $mirror (trixie)"
  # Update only this list: quicker, and leaves the binary package lists alone.
  apt-get update -qq -o Dir::Etc::sourcelist="$SRC_LIST" -o Dir::Etc::sourceparts=- \
    -o APT::Get::List-Cleanup=0
  # Only the orig tarball is needed, and the .dsc/.debian.tar.xz sometimes 404 (which
  # makes `apt-get source` fail): take its URI and hash from the signed index and let
  # apt's own downloader fetch and verify just that file.
  read -r uri file hash < <(apt-get source -qq --print-uris criu/trixie 2>/dev/null |
    awk '$2 ~ /\.orig\.tar\./ {gsub("\047", "", $1); print $1, $2, $4; exit}') || true
  [ -n "${uri:-}" ] || unavailable "no criu source in Debian trixie's index (see $SRC_LIST)"
  /usr/lib/apt/apt-helper -qq -o APT::Sandbox::User=root download-file "$uri" .download "$hash" >&2
  mv .download "$file"
fi
tarball=$(ls criu_*.orig.tar.* | sort -V | tail -n1)
version=$(basename "$tarball" | sed -E 's/^criu_(.*)\.orig\.tar\..*$/\1/')
dir=$WORK/criu-$version-wl$PATCH_LEVEL
if [ ! -d "$dir" ]; then
  rm -rf "$dir.tmp" && mkdir "$dir.tmp"
  tar -xf "$tarball" -C "$dir.tmp" --strip-components=1
  # A CRIU that already has the fix (>= 4.2) does not take the patch: build it as it is.
  if so_pass_patch | patch -d "$dir.tmp" -p1 -N -s --dry-run >/dev/null 2>&1; then
    so_pass_patch | patch -d "$dir.tmp" -p1 -N -s
    log "patched criu/sockets.c: SO_PASSCRED/SO_PASSSEC on inet sockets (Linux >= 6.16)"
  fi
  mv "$dir.tmp" "$dir"
fi

# 4. Build only the criu binary (no docs, no plugins): ~30 s on 2 cores.
log "building criu $version in $dir"
start=$SECONDS
make -C "$dir" -j"$(nproc)" criu >"$WORK/build.log" 2>&1 || {
  tail -n 30 "$WORK/build.log" >&2
  unavailable "building CRIU $version failed (see $WORK/build.log)"
}
log "built in $((SECONDS - start)) s"
try "$dir/criu/criu"
"$dir/criu/criu" check >&2 || true
unavailable "CRIU $version cannot checkpoint a process on this machine, not even with CRIU_FAULT=130: $(grep -m1 Error "$WORK/probe-dump.log" 2>/dev/null || echo 'criu check fails') (log: $WORK/probe-dump.log)"
