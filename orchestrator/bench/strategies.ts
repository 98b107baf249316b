// Benchmark: the four address strategies side by side (strategy-comparison.ts).
//   sudo npm run bench:strategies [-- --repeat 10 --intervals 10,1 --strategies network-paging,l2-overlay --kinds vm,container --scale 1,10,100 --out DIR]
//   --scale '': no scaling axis; --kinds '': no moves side by side, only the scaling axis
import { join, resolve } from 'node:path';
import { COMPARISON_TOPOLOGIES, compareStrategies, writeComparison } from './strategy-comparison.js';
import { scaleStrategies } from './strategy-scaling.js';
import type { WorkloadKind } from '../topology/model.js';
import { benchArgs } from './args.js';

const args = benchArgs({ repeat: '10', intervals: '10,1', strategies: Object.keys(COMPARISON_TOPOLOGIES).join(','), out: 'bench-strategies', kinds: 'vm,container', scale: '1,10,100' });
const repeat = Number(args.repeat);
const outDir = resolve(args.out);
const comparison = await compareStrategies({
  repeat,
  intervals: args.intervals.split(',').map(Number),
  strategies: args.strategies.split(','),
  kinds: args.kinds.split(',').filter(Boolean) as WorkloadKind[],
});
const counts = args.scale.split(',').filter(Boolean).map(Number);
if (counts.length) comparison.scaling = await scaleStrategies({ counts, strategies: args.strategies.split(',') });
console.log(await writeComparison(comparison, repeat, outDir));
console.log(`written: ${['strategies.md', 'strategies.json', 'strategies.svg'].map((f) => join(outDir, f)).join(', ')}`);
