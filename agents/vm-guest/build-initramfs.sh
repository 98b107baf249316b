#!/usr/bin/env bash
# Helpers of agents/vm-guest/Makefile (they run on the build machine, not in the guest).
#
#   build-initramfs.sh kernel             the guest kernel version: the newest /boot/vmlinuz-VER
#                                         whose /lib/modules/VER has virtio_net (nothing if none)
#   build-initramfs.sh modules VER        the module files the guest needs, in load order:
#                                         virtio_net and, unless /boot/config-VER says they are
#                                         built in, virtio_pci and virtio_console (the control
#                                         channel), each after its dependencies
#   build-initramfs.sh build VER OUT INIT CTL SEND RECV
#                                         writes the initramfs OUT (gzip'd newc cpio): busybox-static
#                                         with its applet links, the modules (decompressed) and the
#                                         list /lib/modules/load-order, udp-send/udp-recv and CTL
#                                         (as ctl-serve) in /bin, INIT as /init
#   build-initramfs.sh vmlinux VER OUT    writes OUT: the uncompressed ELF kernel inside
#                                         /boot/vmlinuz-VER when it has a PVH entry point (QEMU then
#                                         boots it directly, without the slow decompression under
#                                         TCG), else a copy of the bzImage (QEMU boots either)
set -euo pipefail
BOOT=${WARPLAB_BOOT_DIR:-/boot}
MODROOT=${WARPLAB_MODULES_DIR:-/lib/modules}
BUSYBOX=${WARPLAB_BUSYBOX:-/bin/busybox}

say() { printf 'vm-guest: %s\n' "$*" >&2; }

has_virtio_net() { [ -n "$(find "$MODROOT/$1/kernel/drivers/net" -maxdepth 1 -name 'virtio_net.ko*' 2>/dev/null)" ]; }

pick_kernel() {
	local v
	for v in $(find "$BOOT" -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' 2>/dev/null | sed 's/^vmlinuz-//' | sort -rV); do
		if has_virtio_net "$v"; then echo "$v"; return 0; fi
	done
}

# Prints MODULE unless /boot/config-VER builds it in (CONFIG_OPTION=y); with no config file, or
# the option not set, only when there is such a module.
unless_built_in() {
	local ver=$1 mod=$2 option=$3
	case $(sed -n "s/^CONFIG_$option=\(.\)\$/\1/p" "$BOOT/config-$ver" 2>/dev/null || true) in
	y) ;;
	m) echo "$mod" ;;
	*) if grep -q "/$mod\.ko[^:]*:" "$MODROOT/$ver/modules.dep"; then echo "$mod"; fi ;;
	esac
}

# modules.dep lines: "kernel/a.ko: kernel/b.ko kernel/c.ko" (every dependency, transitively).
# A depth-first walk puts each module after what it needs; the names are relative to
# /lib/modules/VER and keep their compression suffix.
module_order() {
	local ver=$1 dep=$MODROOT/$1/modules.dep
	[ -r "$dep" ] || { say "$dep is missing (run depmod $ver)"; exit 1; }
	local roots
	roots=($(unless_built_in "$ver" virtio_pci VIRTIO_PCI) virtio_net $(unless_built_in "$ver" virtio_console VIRTIO_CONSOLE))
	awk -v roots="${roots[*]}" '
	{ name = $1; sub(/:$/, "", name); deps[name] = ""; for (i = 2; i <= NF; i++) deps[name] = deps[name] " " $i
	  base = name; sub(/.*\//, "", base); sub(/\.ko.*$/, "", base); path[base] = name }
	function visit(m,   n, i, d) {
		if (m in seen) return; seen[m] = 1
		n = split(deps[m], d, " "); for (i = n; i >= 1; i--) visit(d[i])
		print m
	}
	END { n = split(roots, r, " ")
	      for (i = 1; i <= n; i++) { if (!(r[i] in path)) { print "missing module " r[i] > "/dev/stderr"; exit 1 }
	                                 visit(path[r[i]]) } }' "$dep"
}

build() {
	local ver=$1 out=$2 init=$3 ctl=$4 send=$5 recv=$6
	if readelf -l "$BUSYBOX" 2>/dev/null | grep -q 'INTERP'; then
		say "$BUSYBOX is dynamically linked: apt-get install busybox-static"
		exit 1
	fi
	stage=$(mktemp -d "${TMPDIR:-/tmp}/vm-guest-initramfs.XXXXXX")
	trap 'rm -rf "$stage"' EXIT
	mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,etc,lib/modules}
	install -m 0755 "$BUSYBOX" "$stage/bin/busybox"
	local a
	for a in $("$BUSYBOX" --list-full); do # bin/sh, sbin/ip, usr/bin/...
		[ -e "$stage/$a" ] || ln -s /bin/busybox "$stage/$a"
	done
	install -m 0755 "$send" "$stage/bin/udp-send"
	install -m 0755 "$recv" "$stage/bin/udp-recv"
	install -m 0755 "$ctl" "$stage/bin/ctl-serve"
	install -m 0755 "$init" "$stage/init"
	local m plain order=() mods
	mods=$(module_order "$ver") # fails the build if modules.dep or a module is missing
	for m in $mods; do
		plain=$(basename "$m")
		case $plain in
		*.ko.xz) plain=${plain%.xz}; xz -dc "$MODROOT/$ver/$m" >"$stage/lib/modules/$plain" ;;
		*.ko.zst) plain=${plain%.zst}; zstd -qdc "$MODROOT/$ver/$m" >"$stage/lib/modules/$plain" ;;
		*.ko.gz) plain=${plain%.gz}; gzip -dc "$MODROOT/$ver/$m" >"$stage/lib/modules/$plain" ;;
		*.ko) cp "$MODROOT/$ver/$m" "$stage/lib/modules/$plain" ;;
		*) say "unexpected module file $m"; exit 1 ;;
		esac
		order+=("$plain")
	done
	printf '%s\n' "${order[@]}" >"$stage/lib/modules/load-order"
	echo "$ver" >"$stage/etc/kernel-version"
	# fixed owner and times: the same inputs give the same bytes
	(cd "$stage" && find . -mindepth 1 -exec touch -h -d @0 {} + &&
		find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 --reproducible) |
		gzip -9n >"$out.tmp"
	mv "$out.tmp" "$out"
}

# The bzImage holds the kernel as one compressed stream after the setup code: try every
# offset where a known compressor's magic occurs until one decompresses to an ELF file.
vmlinux() {
	local ver=$1 out=$2 img=$BOOT/vmlinuz-$1 magic cmd off
	for pair in '\xfd7zXZ\x00:xz -dc --single-stream' '\x28\xb5\x2f\xfd:zstd -qdc' '\x1f\x8b\x08:gzip -dc'; do
		magic=${pair%%:*} cmd=${pair#*:}
		command -v "${cmd%% *}" >/dev/null || continue
		for off in $(LC_ALL=C grep -obUaP "$magic" "$img" | cut -d: -f1); do
			tail -c +$((off + 1)) "$img" | $cmd >"$out.tmp" 2>/dev/null || true
			if readelf -h "$out.tmp" >/dev/null 2>&1; then
				# XEN_ELFNOTE_PHYS32_ENTRY (type 0x12): the PVH entry QEMU needs for an ELF kernel
				if readelf -n "$out.tmp" 2>/dev/null | grep -qE '\(0x00000012\)|PHYS32_ENTRY'; then
					mv "$out.tmp" "$out"
					return 0
				fi
				say "$img: the kernel has no PVH entry point (CONFIG_PVH): using the bzImage as is"
				break 2
			fi
		done
	done
	rm -f "$out.tmp"
	[ -n "${off:-}" ] || say "$img: found no compressed kernel I can unpack: using the bzImage as is"
	cp "$img" "$out"
}

case ${1:-} in
kernel) pick_kernel ;;
modules) module_order "$2" ;;
vmlinux) vmlinux "$2" "$3" ;;
build) shift; build "$@" ;;
*) say "usage: $0 kernel | modules VER | build VER OUT INIT CTL SEND RECV | vmlinux VER OUT"; exit 2 ;;
esac
