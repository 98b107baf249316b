import { strict as assert } from 'node:assert';
import { appendFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { keepWorkloadLogs } from '../../workload/logs.js';
import { removeDir, tempStateDir } from '../helpers.js';

describe("a run keeps the workloads' logs", () => {
  it('copies consoles, QEMU and watcher logs and dockerd.log, not QMP sockets; a grown log is copied again', async () => {
    const lab = tempStateDir();
    const raw = tempStateDir();
    const vm = join(lab, 'workloads', 'vm-a');
    mkdirSync(vm, { recursive: true });
    mkdirSync(join(lab, 'docker'));
    writeFileSync(join(vm, 'pdc-hv.serial.log'), 'boot\n');
    writeFileSync(join(vm, 'adc-hv.qemu.log'), '');
    writeFileSync(join(vm, 'watch-adc-hv-1.jsonl'), '{"event":"rarp"}\n');
    writeFileSync(join(lab, 'docker', 'dockerd.log'), 'dockerd\n');
    const qmp = createServer();
    await new Promise<void>((r) => qmp.listen(join(vm, 'pdc-hv.qmp'), r));
    try {
      const kept = keepWorkloadLogs(lab, raw);
      assert.deepEqual(readdirSync(join(raw, 'workloads', 'vm-a')).sort(), ['adc-hv.qemu.log', 'pdc-hv.serial.log', 'watch-adc-hv-1.jsonl']);
      assert.ok(kept.includes(join(raw, 'workloads', 'dockerd.log')));
      appendFileSync(join(vm, 'pdc-hv.serial.log'), 'general protection fault\n');
      keepWorkloadLogs(lab, raw);
      assert.equal(readFileSync(join(raw, 'workloads', 'vm-a', 'pdc-hv.serial.log'), 'utf8'), 'boot\ngeneral protection fault\n');
    } finally {
      qmp.close();
      removeDir(lab);
      removeDir(raw);
    }
  });
});
