// The real udp-send/udp-recv over loopback (no root): stall handling, counts, clean stop.
// Logic only: how long a stall or a gap lasts depends on the machine's load, so no duration
// is asserted here (the probe's accuracy is a benchmark figure: npm run bench:probe).
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

  it('a paused sender skips its slots instead of bursting, and every packet it sent is logged', async () => {
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
    // Stopped for many 1 ms slots, the sender missed them: it says so, and the sequence
    // numbers stay consecutive (a stall is not loss).
    assert.ok(capture.sender.skippedSlots > 0, 'the sender counted the slots it missed');
    const a = analyzeStream(arrivals, { intervalMs: 1, windows: [], sent: capture.sender.sent });
    assert.deepEqual([a.lost, a.duplicates, a.reordered], [0, 0, 0]);
    assert.deepEqual(a.gaps.filter((g) => g.seqSkipped > 0), [], 'no gap hides a lost packet');
    // No catch-up burst: the schedule sends each slot at most once and never early, so any
    // three consecutive packets span more than one interval on the sender's clock (half of
    // it here: these are its realtime stamps, pacing uses the monotonic clock). A burst of
    // the missed slots would put them microseconds apart.
    const send = arrivals.sendMs;
    const burst = Array.from(send.subarray(2), (t, i) => t - send[i]!).findIndex((d) => d <= 0.5);
    assert.equal(burst, -1, `packets ${burst}..${burst + 2} were sent within half an interval`);
  });

  it('fails clearly when the receiver cannot start', async () => {
    const shell = new LocalShell('loopback');
    await assert.rejects(
      startProbeStream({ label: 'x', sender: shell, receiver: shell, to: '127.0.0.1', port: 1, maxDurationS: 1, logPath: join(dir, 'x.bin'), programs: { send: '/bin/true', recv: join(dir, 'no-such-udp-recv') } }),
      /udp-recv exited before listening on loopback/,
    );
  });
});
