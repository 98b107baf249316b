// The benchmarks' series and comparisons: what could not be measured is counted, and series
// that miss samples are not compared.
import { strict as assert } from 'node:assert';
import { compared, difference, measured, measuredCount, median } from '../../bench/compare.js';

describe('benchmark comparisons', () => {
  // The paged series measured all 6 migrations; the baseline only 1 (the others: no gap,
  // a stream that did not resume, a driver figure missing).
  const paged = measured([120.1, 129.5, 131, 128, 140.2, 129.5]);
  const baseline = measured([10.1, null, null, NaN, null, undefined]);
  const full = measured([9, 10.1, 11, 10, 12, 10.1]);

  it('a series says how many of its samples were measured', () => {
    assert.deepEqual([measuredCount(paged), measuredCount(baseline), measuredCount(measured([]))], ['6', '1 of 6 measured', '0 of 0 measured']);
    assert.deepEqual([median(paged), median(baseline), median(measured([null]))], ['129.5 ms', '10.1 ms (1 of 6 measured)', '– (0 of 1 measured)']);
  });

  it('compares complete series only: n/a (k of n measured) otherwise, never a difference', () => {
    assert.equal(compared(paged, full, difference), '+119.4 ms');
    assert.equal(compared(full, paged, difference), '-119.4 ms');
    assert.equal(compared(paged, baseline, difference), 'n/a (1 of 6 measured)');
    assert.equal(compared(baseline, measured([1, null]), (a, b) => `${(a / b).toFixed(2)}×`), 'n/a (1 of 6 measured, 1 of 2 measured)');
    assert.equal(compared(paged, measured([]), difference), 'n/a (0 of 0 measured)');
  });
});
