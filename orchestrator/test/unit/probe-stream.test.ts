// The real udp-send/udp-recv over loopback (no root): pacing, stall handling, clean stop.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { analyzeStream } from '../../probe/analysis.js';
import { parseArrivalLog } from '../../probe/log.js';
import { startProbeStream } from '../../probe/stream.js';
import { LocalShell } from '../../shell/local.js';
import type { BackgroundProcess, Shell } from '../../shell/shell.js';
import { removeDir, tempStateDir } from '../helpers.js';

/** A local Shell that remembers what it started, so the test can pause the sender. */
class WatchedShell extends LocalShell {
  readonly started: BackgroundProcess[] = [];
  constructor() {
    super('loopback', [], {}, (p) => this.started.push(p));
  }
}

describe('probe programs over loopback', function () {
  this.timeout(20_000);
  let dir: string;
  beforeEach(() => (dir = tempStateDir()));
  afterEach(() => removeDir(dir));

  it('a sender paused for 80 ms leaves one gap and skips its slots instead of bursting', async () => {
    const sender = new WatchedShell();
    const receiver: Shell = new LocalShell('loopback');
    const probe = await startProbeStream({ label: 'lo', sender, receiver, to: '127.0.0.1', intervalMs: 1, stream: 7, maxDurationS: 10, logPath: join(dir, 'lo.bin') });
    await sleep(300);
    const proc = sender.started[0]!;
    proc.kill('SIGSTOP');
    await sleep(80);
    proc.kill('SIGCONT');
    await sleep(300);
    const capture = await probe.stop();

    assert.ok(capture.sender && capture.receiver, 'both programs printed their counters');
    const log = parseArrivalLog(readFileSync(capture.logPath), capture.logPath);
    assert.equal(log.kernelTimestamps, true);
    const arrivals = log.streams.get(7)!;
    assert.equal(arrivals.seq.length, capture.sender.sent, 'every packet sent was logged before the receiver exited');
    assert.equal(capture.receiver.logged, capture.sender.sent);
    assert.ok(capture.sender.skippedSlots >= 70, `skipped ${capture.sender.skippedSlots} slots`);

    const a = analyzeStream(arrivals, { intervalMs: 1, windows: [], sent: capture.sender.sent });
    assert.equal(a.lost, 0);
    const pause = a.gaps.reduce((g, x) => (x.durationMs > g.durationMs ? x : g));
    assert.ok(pause.durationMs >= 79 && pause.durationMs < 120, `pause gap ${pause.durationMs} ms`);
    assert.equal(pause.seqSkipped, 0, 'sequence numbers stay consecutive across a stall');
    assert.ok(Math.abs(pause.sendSpanMs - pause.durationMs) < 1, 'the send times show the sender itself was silent');
    const after = Array.from(arrivals.recvMs).filter((t) => t > pause.endMs && t <= pause.endMs + 20);
    assert.ok(after.length <= 22, `no catch-up burst: ${after.length} packets in the 20 ms after the stall`);
  });

  it('fails clearly when the receiver cannot start', async () => {
    const shell = new LocalShell('loopback');
    await assert.rejects(
      startProbeStream({ label: 'x', sender: shell, receiver: shell, to: '127.0.0.1', port: 1, maxDurationS: 1, logPath: join(dir, 'x.bin'), programs: { send: '/bin/true', recv: join(dir, 'no-such-udp-recv') } }),
      /udp-recv exited before listening on loopback/,
    );
  });
});
