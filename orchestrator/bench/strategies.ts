// Benchmark: the four address strategies side by side (strategy-comparison.ts).
//   sudo npm run bench:strategies [-- --repeat 10 --intervals 10,1 --strategies network-paging,l2-overlay --out DIR]
import { join, resolve } from 'node:path';
import { COMPARISON_TOPOLOGIES, compareStrategies, writeComparison } from './strategy-comparison.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
}

const repeat = Number(arg('repeat', '10'));
const outDir = resolve(arg('out', 'bench-strategies'));
const rows = await compareStrategies({
  repeat,
  intervals: arg('intervals', '10,1').split(',').map(Number),
  strategies: arg('strategies', Object.keys(COMPARISON_TOPOLOGIES).join(',')).split(','),
});
console.log(await writeComparison(rows, repeat, outDir));
console.log(`written: ${['strategies.md', 'strategies.json', 'strategies.svg'].map((f) => join(outDir, f)).join(', ')}`);
