// What diagnosing a failed move needs after the lab is gone: each workload's serial consoles
// and QEMU logs (source and destination), its watchers' logs, and the Docker engine's log,
// copied into a run's raw/ directory. The logs are only appended to, so the latest copy is whole.
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Copies the lab's workload logs to RAW/workloads/; returns the files written. */
export function keepWorkloadLogs(labPath: string, raw: string): string[] {
  const kept: string[] = [];
  const copy = (from: string, toDir: string) => {
    mkdirSync(toDir, { recursive: true });
    const to = join(toDir, from.slice(from.lastIndexOf('/') + 1));
    // Append-only: a copy of the same size is the same (a long run copies only what grew).
    if (!existsSync(to) || statSync(to).size !== statSync(from).size) copyFileSync(from, to);
    kept.push(to);
  };
  const workloads = join(labPath, 'workloads');
  for (const w of existsSync(workloads) ? readdirSync(workloads) : []) {
    for (const f of readdirSync(join(workloads, w))) {
      const path = join(workloads, w, f);
      // Regular files only: QMP sockets stay behind.
      if (statSync(path).isFile()) copy(path, join(raw, 'workloads', w));
    }
  }
  const dockerd = join(labPath, 'docker', 'dockerd.log');
  if (existsSync(dockerd)) copy(dockerd, join(raw, 'workloads'));
  return kept;
}
