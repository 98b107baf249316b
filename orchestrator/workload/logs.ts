// What diagnosing a failed move needs after the lab is gone: each workload's serial consoles
// and QEMU logs (source and destination), its watchers' logs, and the Docker engine's log,
// copied into a run's raw/ directory. The logs are only appended to, so the latest copy is whole.
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabHandle } from '../lab/handle.js';
import { workloadDir } from '../lab/machine.js';

/** The lab's workload logs, wherever its hypervisors run, in RAW/workloads/; returns the files written. */
export async function keepLabWorkloadLogs(lab: LabHandle, raw: string): Promise<string[]> {
  return [...keepWorkloadLogs(lab.path, raw), ...(await keepHostWorkloadLogs(lab, raw))];
}

/**
 * The logs in each workload's folder on the lab's other machines (SSH hosts): its QEMUs'
 * consoles and logs, the strategies' listeners' logs; read there, since down removes them.
 */
async function keepHostWorkloadLogs(lab: LabHandle, raw: string): Promise<string[]> {
  // One node per other machine, to look there.
  const byMachine = new Map<string, string>();
  for (const n of lab.topology.nodes) {
    const where = lab.machine(n.name).where;
    if (where !== 'this machine' && !byMachine.has(where)) byMachine.set(where, n.name);
  }
  const kept = await Promise.all(
    [...byMachine.values()].flatMap((node) =>
      lab.topology.workloads.map(async (w) => {
        const dir = workloadDir(lab.machine(node), w.name);
        const listed = await lab.shell(node).exec(['sh', '-c', 'cd "$1" 2>/dev/null && for f in *.log; do [ -f "$f" ] && echo "$f"; done; true', 'sh', dir]).catch(() => undefined);
        const names = listed?.stdout.split('\n').filter(Boolean) ?? [];
        return Promise.all(
          names.map(async (f) => {
            const text = await lab.machine(node).read(`${dir}/${f}`).catch(() => undefined);
            if (text === undefined) return [];
            mkdirSync(join(raw, 'workloads', w.name), { recursive: true });
            writeFileSync(join(raw, 'workloads', w.name, f), text);
            return [join(raw, 'workloads', w.name, f)];
          }),
        );
      }),
    ),
  );
  return kept.flat(2);
}

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
