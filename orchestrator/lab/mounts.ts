// Mounts a lab made under its own folders (bpffs of agents, a Docker engine's overlays),
// found in mountinfo and removed deepest first.
import { readFileSync } from 'node:fs';
import type { Shell } from '../shell/shell.js';

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
export function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Mount points at or under any of `roots`, in the order to unmount them: deepest first, then the latest mounted. */
export function mountsUnder(mountinfo: string, roots: readonly string[]): string[] {
  const points = mountinfo
    .split('\n')
    .filter(Boolean)
    .map((l) => unescapeMountPath(l.split(' ')[4]!))
    .map((p, i) => ({ p, i }))
    .filter(({ p }) => roots.some((r) => p === r || p.startsWith(r.endsWith('/') ? r : r + '/')));
  points.sort((a, b) => b.p.split('/').length - a.p.split('/').length || b.i - a.i);
  return points.map(({ p }) => p);
}

/** Unmounts everything under `roots`; lazily when busy. Returns what is still mounted. */
export async function unmountUnder(shell: Shell, roots: readonly string[]): Promise<string[]> {
  for (const p of mountsUnder(readFileSync('/proc/self/mountinfo', 'utf8'), roots)) {
    const r = await shell.exec(['umount', p], { check: false });
    if (r.exitCode !== 0) await shell.exec(['umount', '-l', p], { check: false });
  }
  return mountsUnder(readFileSync('/proc/self/mountinfo', 'utf8'), roots);
}
