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

/** A VM's console and QEMU logs on hypervisors that run on other machines (SSH hosts), read there. */
async function keepHostWorkloadLogs(lab: LabHandle, raw: string): Promise<string[]> {
  const t = lab.topology;
  const elsewhere = t.nodes.filter((n) => n.kind === 'hypervisor' && lab.machine(n.name).where !== 'this machine').map((n) => n.name);
  const files = t.workloads.filter((w) => w.kind === 'vm').flatMap((w) => elsewhere.flatMap((hv) => [`${hv}.serial.log`, `${hv}.qemu.log`].map((f) => ({ w: w.name, hv, f }))));
  const kept = await Promise.all(
    files.map(async ({ w, hv, f }) => {
      const text = await lab.machine(hv).read(`${workloadDir(lab.machine(hv), w)}/${f}`).catch(() => undefined);
      if (text === undefined) return []; // never ran there
      const to = join(raw, 'workloads', w, f);
      mkdirSync(join(raw, 'workloads', w), { recursive: true });
      writeFileSync(to, text);
      return [to];
    }),
  );
  return kept.flat();
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
