// A host's clock offset from ping-pongs: the shortest round trip decides, half of it is the
// uncertainty (the other clock was read somewhere within it).
import { strict as assert } from 'node:assert';
import { multiHostClock, offsetFromSamples } from '../../probe/clock.js';

describe('clock offsets from ping-pongs', () => {
  it('takes the sample with the shortest round trip; uncertainty is half of it', () => {
    const o = offsetFromSamples('host h1', [
      { sentMs: 1000, theirsMs: 1012, backMs: 1010 }, // rtt 10: a queue on the way
      { sentMs: 2000, theirsMs: 2003.5, backMs: 2001 }, // rtt 1: the one that counts
      { sentMs: 3000, theirsMs: 3001, backMs: 3004 },
    ], 'test');
    assert.deepEqual(o, { of: 'host h1', offsetMs: 3, uncertaintyMs: 0.5, method: 'test' });
  });

  it('refuses to make up an offset from no samples', () => {
    assert.throws(() => offsetFromSamples('host h1', [], 'test'), /no clock samples for host h1/);
  });

  it('a clock of several hosts says so, with each offset', () => {
    const c = multiHostClock([{ of: 'host a', offsetMs: 1, uncertaintyMs: 0.2, method: 'm' }]);
    assert.equal(c.singleHost, false);
    assert.equal(c.offsets.length, 1);
  });
});
