import { Command } from 'commander';
import { SD_KIND } from '../../probe/stats.js';
import { statisticCells } from '../../report/format.js';
import { reporters, writeReports } from '../../report/reporter.js';
import { reloadRun } from '../../report/run.js';
import { printJson, table } from '../output.js';

export function reportCommand(): Command {
  return new Command('report')
    .description('re-render the reports of a probe run directory (JSON, Markdown, JUnit XML, SVG timelines)')
    .argument('<run-dir>', 'a run directory holding report.json (and raw/ logs)')
    .option('--format <names>', `comma-separated subset of: ${[...reporters.keys()].join(', ')}`)
    .option('--json', 'print a machine-readable summary (files, statistics, thresholds)')
    .option('--check', 'exit with status 1 when a threshold fails')
    .addHelpText('after', `
When the raw arrival logs named in report.json are still in the run directory, every
figure is recomputed from them first; otherwise the recorded results are re-rendered.
Formats:${[...reporters.values()].map((r) => `\n  ${r.name.padEnd(9)} ${r.description}`).join('')}

Example:
  $ warplab report warplab-runs/probe-cut-2026-11-23T14-00-00 --check
  $ warplab report RUN-DIR --json | jq '.thresholds[] | select(.passed | not)'`)
    .action(async (runDir: string, opts: { format?: string; json?: boolean; check?: boolean }) => {
      const { run, reanalyzed } = reloadRun(runDir);
      const files = await writeReports(run, runDir, opts.format?.split(',').map((f) => f.trim()));
      const failed = run.thresholds.filter((t) => !t.passed);
      if (opts.check && failed.length) process.exitCode = 1;
      if (opts.json) {
        return printJson({ run: run.input.name, reanalyzed, files, sdKind: SD_KIND, statistics: run.statistics, thresholds: run.thresholds.map((t) => ({ name: t.name, passed: t.passed, failures: t.failures })) });
      }
      console.log(`${reanalyzed ? 're-analysed from the raw logs' : 'raw logs missing: rendered the recorded results'}; wrote ${files.length} file(s):`);
      for (const f of files) console.log(`  ${f}`);
      if (run.statistics.length) {
        const cell = (v: number | null | undefined) => (v === null || v === undefined ? '-' : v.toFixed(3));
        console.log('\n' + table(['FIGURE', 'STREAM', 'N', 'MEAN', `SD (${SD_KIND})`, 'MIN', 'MEDIAN', 'MAX'], run.statistics.map((r) => [r.metric, r.stream ?? 'all', ...statisticCells(r, cell)])));
      }
      for (const t of run.thresholds) console.log(`${t.passed ? 'pass' : 'FAIL'}  ${t.name}${t.passed ? '' : `: ${t.failures.join('; ')}`}`);
    });
}
