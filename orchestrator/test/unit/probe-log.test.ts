import { strict as assert } from 'node:assert';
import { ProbeError } from '../../probe/errors.js';
import { encodeArrivalLog, parseArrivalLog } from '../../probe/log.js';
import { summarize } from '../../probe/stats.js';

describe('probe arrival log format', () => {
  const started = 1_763_900_000_000.25; // a realistic epoch: ns above 2^53 must still parse to ~µs
  const records = [
    { seq: 0, stream: 1, sendMs: started + 1, recvMs: started + 1.0421 },
    { seq: 0, stream: 2, sendMs: started + 1.5, recvMs: started + 1.6 },
    { seq: 1, stream: 1, sendMs: started + 2, recvMs: started + 2.0399 },
  ];

  it('reads back what was written, split by stream, to better than a microsecond', () => {
    const log = parseArrivalLog(encodeArrivalLog(records, started), 'x');
    assert.equal(log.kernelTimestamps, true);
    assert.equal(log.truncatedBytes, 0);
    assert.ok(Math.abs(log.startedMs - started) < 1e-3);
    assert.deepEqual([...log.streams.keys()], [1, 2]);
    const s1 = log.streams.get(1)!;
    assert.deepEqual([...s1.seq], [0, 1]);
    assert.ok(Math.abs(s1.recvMs[1]! - s1.recvMs[0]! - 0.9978) < 1e-3);
    assert.ok(Math.abs(s1.sendMs[0]! - (started + 1)) < 1e-3);
  });

  it('ignores a record cut short by a killed receiver', () => {
    const buf = encodeArrivalLog(records, started);
    const log = parseArrivalLog(buf.subarray(0, buf.length - 5), 'x');
    assert.equal(log.truncatedBytes, 19);
    assert.equal(log.streams.get(1)!.seq.length, 1);
  });

  it('refuses files that are not udp-recv logs', () => {
    assert.throws(() => parseArrivalLog(Buffer.from('hello'), 'notes.txt'), (e) => e instanceof ProbeError && /notes\.txt: not a udp-recv log/.test(e.message));
    const wrongSize = encodeArrivalLog([], started);
    wrongSize.writeUInt32LE(32, 8);
    assert.throws(() => parseArrivalLog(wrongSize, 'new.bin'), /record size 32/);
  });
});

describe('probe statistics', () => {
  it('mean, sample σ, min, median, max, n', () => {
    const s = summarize([4, 1, 3, 2])!;
    assert.deepEqual({ ...s, sd: s.sd!.toFixed(9) }, { n: 4, mean: 2.5, sd: Math.sqrt(5 / 3).toFixed(9), min: 1, median: 2.5, max: 4 });
    assert.deepEqual(summarize([7]), { n: 1, mean: 7, sd: null, min: 7, median: 7, max: 7 });
    assert.equal(summarize([]), null);
  });
});
