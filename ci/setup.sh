#!/usr/bin/env bash
# Installs everything warplab needs on Debian 12 (as root), idempotently: system packages
# (only the missing ones, so a second run takes seconds), npm dependencies, the build
# (TypeScript and the agents' static binaries).
set -euo pipefail
cd "$(dirname "$0")/.."

# iproute2/util-linux: namespaces and veths; iputils-ping: reachability and the rtt step
# (ping -R: busybox's has none); curl: the http step (--rate, curl >= 7.84); tcpdump, scapy:
# captures and crafted packets; mininet: the benchmark's Mininet side; gcc/make/libc6-dev:
# the static agents; clang/llvm/libbpf-dev/libelf-dev/zlib1g-dev/libzstd-dev: the
# translator's eBPF program and its statically linked agent; nftables: its other backend;
# ethtool: agents/translator/netns-test.sh turns checksum offload off.
# qemu-system-x86/linux-image-amd64/busybox-static: VM workloads (the guest kernel and its
# initramfs); docker.io/containerd/runc: container workloads; openvswitch-switch: Mininet's
# userspace switch; the lib*-dev/protobuf packages build CRIU >= 4.1 (ci/criu.sh); bird2: the
# routing-update strategy's BGP daemons, which warplab starts in the routers' namespaces only (never
# the system-wide service); frr: the daemons of frr nodes (containerlab's kind frr), likewise
# per node under lab-unique names, apart from the package's own service; openssh-server: the SSH
# shell's test rig runs its own sshd in each rig namespace (orchestrator/test/ssh-rig.ts), never
# the system's service or its /etc/ssh (its tests skip, saying so, without it).
PACKAGES=(iproute2 util-linux procps iputils-ping curl nftables iptables tcpdump socat arping
  python3-scapy bridge-utils mininet openvswitch-switch ethtool gcc make libc6-dev
  clang llvm libbpf-dev libelf-dev zlib1g-dev libzstd-dev
  qemu-system-x86 qemu-utils linux-image-amd64 busybox-static cpio
  docker.io containerd runc
  libprotobuf-c-dev protobuf-c-compiler protobuf-compiler libprotobuf-dev python3-protobuf
  libnl-3-dev libnet1-dev libcap-dev libnftables-dev libgnutls28-dev libbsd-dev pkg-config xz-utils
  bird2 frr openssh-server)

if [ "$(id -u)" -ne 0 ]; then
  echo "ci/setup.sh installs system packages: run it as root (sudo bash ci/setup.sh)" >&2
  exit 2
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # --no-install-recommends: nothing starts services we did not ask for.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: system packages present"
fi

# QEMU >= 9.0: before it, TCG live migration loses guest memory writes (a moved VM can crash;
# see TCG_MIGRATION_MIN_QEMU in orchestrator/workload/vm.ts). Debian 12 has 7.2; its
# bookworm-backports has a fixed one. Optional like CRIU: on failure, say so and go on.
qemu_version() { qemu-system-x86_64 --version 2>/dev/null | sed -nE '1s/.*version ([0-9]+\.[0-9]+).*/\1/p'; }
BACKPORTS=/etc/apt/sources.list.d/warplab-backports.sources
if ! dpkg --compare-versions "$(qemu_version)" ge 9.0; then
  if [ "$(. /etc/os-release && echo "${VERSION_CODENAME:-}")" = bookworm ]; then
    echo "setup: QEMU $(qemu_version) loses guest writes when it live-migrates under TCG: installing QEMU from bookworm-backports"
    printf '%s\n' '# Written by warplab ci/setup.sh: QEMU >= 9.0 (TCG live migration loses guest writes before 9.0).' \
      'Types: deb' 'URIs: http://deb.debian.org/debian' 'Suites: bookworm-backports' 'Components: main' \
      'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' >"$BACKPORTS"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      -t bookworm-backports qemu-system-x86 qemu-utils >/dev/null; } ||
      echo "setup: QEMU from bookworm-backports could not be installed"
  fi
  dpkg --compare-versions "$(qemu_version)" ge 9.0 ||
    echo "setup: VM workloads unavailable without KVM: QEMU $(qemu_version) loses guest writes when it live-migrates under TCG (fixed in 9.0)"
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  npm run --silent build
fi
make -s -C agents
# CRIU >= 4.1 for container checkpoints: built once, then cached. Optional: without it,
# container workloads are unavailable (ci/criu.sh says why) and everything else works.
if ! bash ci/criu.sh >/dev/null; then
  echo "setup: container workloads unavailable: CRIU cannot checkpoint on this machine: $(cat "${WARPLAB_CACHE:-/var/cache/warplab}/criu.unavailable" 2>/dev/null || echo 'ci/criu.sh failed')"
fi
echo "setup: done ($(node orchestrator/cli/bin.js --version))"
