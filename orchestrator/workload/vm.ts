// The VM workload: warplab's guest (the Debian kernel + agents/vm-guest initramfs running the
// UDP probe app) under QEMU, one process per hypervisor it runs on, controlled over QMP; its
// commands go over a virtio-serial port (workload/vm-shell.ts).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../paths.js';
import type { WorkloadSpec } from '../topology/model.js';
import { appSettings } from './app.js';

export const guestDir = join(packageRoot, 'agents', 'build', 'vm-guest');
// Uncompressed: boots ~2.5 s sooner under TCG, and a migration moves less memory.
export const guestKernel = join(guestDir, 'vmlinux');
export const guestInitrd = join(guestDir, 'initramfs.cpio.gz');

export type Accel = 'kvm' | 'tcg';

/** auto → KVM only where the CPU has hardware virtualisation and /dev/kvm is usable. */
export function chooseAccel(setting: WorkloadSpec['vm']['accel'], cpuinfo = readCpuinfo(), kvmDevice = existsSync('/dev/kvm')): Accel {
  if (setting !== 'auto') return setting;
  return kvmDevice && /^flags\s*:.*\b(vmx|svm)\b/m.test(cpuinfo) ? 'kvm' : 'tcg';
}

/** `qemu-system-x86_64 --version` → [major, minor]; null when it does not run. */
export function parseQemuVersion(text: string): [number, number] | null {
  const m = /version (\d+)\.(\d+)/.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

/**
 * Before QEMU 9.0, TCG live migration loses guest stores: the dirty-bitmap sync's fast path
 * cleared migration dirty bits without resetting the TCG TLB's dirty state, so stores through
 * those TLB entries were never recorded nor re-sent (fixed upstream by "physmem: Fix migration
 * dirty bitmap coherency with TCG memory access", 2024). The destination then runs on stale
 * pages: here 13 of 17 moves of an idle guest under QEMU 7.2 missed 4-39 pages, and a third
 * of fresh labs lost their VM to a kernel panic. KVM tracks dirty pages in the kernel instead.
 */
export const TCG_MIGRATION_MIN_QEMU: [number, number] = [9, 0];

export function tcgMigrationSafe(v: [number, number]): boolean {
  const [major, minor] = TCG_MIGRATION_MIN_QEMU;
  return v[0] > major || (v[0] === major && v[1] >= minor);
}

function readCpuinfo(): string {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return '';
  }
}

/** What /init in the guest reads (agents/vm-guest/README.md). */
export function kernelCmdline(w: WorkloadSpec): string {
  const p = [
    'console=ttyS0',
    // Warnings and errors (a NIC timeout, a hung task) reach the serial log; boot chatter does not.
    'loglevel=5',
    'panic=-1',
    `warplab.ip=${w.ipv4}`,
    ...(w.gateway ? [`warplab.gw=${w.gateway}`] : []),
    ...Object.entries(appSettings(w)).map(([k, v]) => `warplab.${k}=${v}`),
  ];
  return p.join(' ');
}

export interface VmFiles {
  qmp: string;
  serial: string;
  /** The control channel's socket (workload/vm-shell.ts). */
  ctl: string;
}

/** The guest's kernel and initramfs as paths on the hypervisor's machine. */
export interface GuestFiles {
  kernel: string;
  initrd: string;
}

/** Source and destination run the same command; the destination adds `-incoming`. */
export function qemuArgv(w: WorkloadSpec, o: { accel: Accel; tap: string; files: VmFiles; guest: GuestFiles; incoming?: string }): string[] {
  return [
    'qemu-system-x86_64',
    '-name', w.name,
    ...(o.accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg', '-cpu', 'qemu64']),
    '-m', String(w.vm.memoryMb),
    '-nodefaults', '-no-user-config', '-display', 'none',
    // Appended: every QEMU that runs the VM on this hypervisor adds to one console log.
    '-chardev', `file,id=console,path=${o.files.serial},append=on`,
    '-serial', 'chardev:console',
    '-kernel', o.guest.kernel,
    '-initrd', o.guest.initrd,
    '-append', kernelCmdline(w),
    '-netdev', `tap,id=n0,ifname=${o.tap},script=no,downscript=no`,
    '-device', `virtio-net-pci,netdev=n0,mac=${w.mac}`,
    // The control channel: a virtio-serial port that the guest's ctl-serve keeps open.
    '-device', 'virtio-serial-pci',
    '-chardev', `socket,id=ctl,path=${o.files.ctl},server=on,wait=off`,
    '-device', 'virtserialport,chardev=ctl,name=warplab.ctl',
    '-qmp', `unix:${o.files.qmp},server=on,wait=off`,
    ...(o.incoming ? ['-incoming', o.incoming] : []),
  ];
}

export function vmFiles(dir: string, hv: string): VmFiles {
  return { qmp: join(dir, `${hv}.qmp`), serial: join(dir, `${hv}.serial.log`), ctl: join(dir, `${hv}.ctl.sock`) };
}
