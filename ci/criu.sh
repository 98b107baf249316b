#!/usr/bin/env bash
# Provides a CRIU >= 4.1 that passes `criu check` (container checkpoint/restore), as root,
# idempotently. Debian 12's criu 3.17 fails on recent kernels (the [vvar_vclock] vDSO
# mapping, fixed in CRIU 4.1), so unless the distro criu works we build the one from
# Debian trixie's source archive (no other source is reachable) in a cache folder.
# The working binary is linked as $CACHE/bin/criu, whose folder dockerd gets first on its
# PATH; that path is the last line printed on stdout. A second run takes a second or two.
# Build deps come from ci/setup.sh's PACKAGES. Override the cache with WARPLAB_CACHE.
set -euo pipefail

CACHE=${WARPLAB_CACHE:-/var/cache/warplab}
WORK=$CACHE/criu
LINK=$CACHE/bin/criu
MIN=4.1
SRC_LIST=/etc/apt/sources.list.d/warplab-criu-src.sources

if [ "$(id -u)" -ne 0 ]; then
  echo "ci/criu.sh: run it as root (it writes $CACHE and an apt source list)" >&2
  exit 2
fi

log() { echo "criu: $*" >&2; }

# "Version: 4.1.1" → 4.1.1; empty when the binary does not run.
version_of() { "$1" --version 2>/dev/null | awk '/^Version:/ {print $2; exit}'; }

# True when $1 is recent enough, `criu check` passes and it can dump a process that holds
# a UDP socket: `criu check` alone passes on Linux >= 6.16, where CRIU 4.1 fails to dump
# any inet socket (getsockopt SO_PASSCRED/SO_PASSSEC now answers EOPNOTSUPP for them).
works() {
  local v
  v=$(version_of "$1")
  [ -n "$v" ] && dpkg --compare-versions "$v" ge "$MIN" && "$1" check >/dev/null 2>&1 &&
    dumps_udp "$1"
}

dumps_udp() {
  local img pid ok=1 i
  img=$(mktemp -d)
  # Its own session and no inherited fds: CI may run us in a PID namespace whose session
  # leader lies outside it, or hand us fds from another mount namespace, and CRIU refuses
  # to dump either. setsid does not fork here (a script's job leads no process group).
  # shellcheck disable=SC2016 # expanded by the inner bash
  setsid bash -c 'for f in /proc/self/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done 2>/dev/null
    exec 3<>/dev/udp/127.0.0.1/9 && exec sleep 30' </dev/null >/dev/null 2>&1 &
  pid=$!
  disown "$pid" # no "Killed" job notice when the dump ends it
  for i in $(seq 100); do # until bash has exec'd sleep with the socket open
    [ "$(cat /proc/$pid/comm 2>/dev/null)" = sleep ] && break
    sleep 0.01
  done
  # The dump kills the process when it succeeds.
  "$1" dump -t "$pid" -D "$img" -o dump.log >/dev/null 2>&1 && ok=0
  [ $ok -eq 0 ] || { kill "$pid" 2>/dev/null; mkdir -p "$WORK"; cp "$img/dump.log" "$WORK/probe-dump.log" 2>/dev/null || true; }
  rm -rf "$img"
  return $ok
}

publish() {
  mkdir -p "$(dirname "$LINK")"
  [ "$(readlink "$LINK" 2>/dev/null)" = "$1" ] || ln -sfn "$1" "$LINK"
  log "using $1 ($(version_of "$1"))"
  echo "$LINK"
  exit 0
}

# 1. What an earlier run (or the distro) already provides.
if [ -e "$LINK" ] && works "$LINK"; then publish "$(readlink -f "$LINK")"; fi
distro=$(command -v criu || true)
if [ -n "$distro" ] && works "$distro"; then publish "$distro"; fi
[ -z "$distro" ] || log "distro $distro ($(version_of "$distro")) is older than $MIN, fails 'criu check' or a test dump: building one"

# 2. A build already in the cache (e.g. the link was removed).
for b in "$WORK"/criu-*/criu/criu; do
  if [ -x "$b" ] && works "$b"; then publish "$b"; fi
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
  [ -n "${uri:-}" ] || { log "no criu source in trixie's index (see $SRC_LIST)"; exit 1; }
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
  log "build failed: see $WORK/build.log"
  exit 1
}
log "built in $((SECONDS - start)) s"
if ! works "$dir/criu/criu"; then
  "$dir/criu/criu" check >&2 || true
  log "$dir/criu/criu was built but 'criu check' or a test dump fails on this kernel (see $WORK/probe-dump.log)"
  exit 1
fi
publish "$dir/criu/criu"
