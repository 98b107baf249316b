// Benchmark: the four address strategies side by side (strategy-comparison.ts).
//   sudo npm run bench:strategies [-- --repeat 10 --intervals 10,1 --strategies network-paging,l2-overlay --kinds vm,container --out DIR]
import { join, resolve } from 'node:path';
import { COMPARISON_TOPOLOGIES, compareStrategies, writeComparison } from './strategy-comparison.js';
import type { WorkloadKind } from '../topology/model.js';
import { benchArgs } from './args.js';

const args = benchArgs({ repeat: '10', intervals: '10,1', strategies: Object.keys(COMPARISON_TOPOLOGIES).join(','), out: 'bench-strategies', kinds: 'vm,container' });
const repeat = Number(args.repeat);
const outDir = resolve(args.out);
const comparison = await compareStrategies({
  repeat,
  intervals: args.intervals.split(',').map(Number),
  strategies: args.strategies.split(','),
  kinds: args.kinds.split(',') as WorkloadKind[],
});
console.log(await writeComparison(comparison, repeat, outDir));
console.log(`written: ${['strategies.md', 'strategies.json', 'strategies.svg'].map((f) => join(outDir, f)).join(', ')}`);
