// report.md: the summary people read; the papers' figures only in a labelled reference column.
import { SD_KIND } from '../probe/stats.js';
import { ms, readingIn, statisticCells, valueIn } from './format.js';
import { MEASUREMENT_HEAD, measurementCells } from './measurements.js';
import { metrics, readingOf, type MetricName } from './metrics.js';
import type { Reporter } from './reporter-types.js';
import type { ProbeRun } from './run.js';

const REFERENCE_HEADING = 'REFERENCE: paper figure, not measured here';

function row(cells: readonly string[]): string {
  return `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [row(head), row(head.map(() => '---')), ...rows.map(row)];
}

function render(run: ProbeRun): string {
  const input = run.input;
  const intervals = [...new Set(input.trials.flatMap((t) => t.streams.map((s) => s.intervalMs)))];
  // The papers measured migrations: a link cut is not comparable with their figures.
  const migrations = run.trials.some((t) => t.windows.some((w) => w.kind === 'migration'));
  const out = [
    `# Probe run ${input.name}`,
    '',
    ...(input.description ? [input.description, ''] : []),
    `Created ${input.createdAt}; ${run.trials.length} trial(s); probe interval ${intervals.map((i) => `${i} ms`).join(', ')}; report generated ${run.generatedAt}.`,
    '',
    `## Summary over trials`,
    '',
    `σ is the ${SD_KIND} standard deviation. The reference column quotes published figures for comparison; warplab did not measure them${intervals.some((i) => i < 10) ? ', and the paper sampled every 10 ms where this run sampled more finely' : ''}.${migrations ? '' : ' This run has no migration, so no figure of it is comparable with them.'}`,
    '',
    ...table(
      ['figure', 'stream', 'n', 'mean', 'σ', 'min', 'median', 'max', REFERENCE_HEADING],
      run.statistics.map((r) => {
        const ref = migrations ? run.references.find((x) => x.metric === r.metric) : undefined;
        return [metrics[r.metric].title, r.stream ?? 'all', ...statisticCells(r, (v) => valueIn(r.unit, v)), ref ? `${ref.source}: ${ref.mean} ms (σ ${ref.sd}), ${ref.how}` : ''];
      }),
    ),
    '',
    ...(input.measurements?.length
      ? [
          '## Measurements',
          '',
          "Series the scenario's steps measured (ms). The last column quotes the scenario's reference text, a published figure: warplab did not measure it.",
          '',
          ...table(MEASUREMENT_HEAD, input.measurements.map(measurementCells)),
          '',
        ]
      : []),
    '## Thresholds',
    '',
    ...(run.thresholds.length
      ? table(['result', 'threshold', 'details'], run.thresholds.map((t) => [t.passed ? 'pass' : '**FAIL**', t.name, t.failures.join('; ')]))
      : ['No thresholds were set.']),
    '',
    ...(input.checks?.length
      ? ['## Checks', '', ...table(['result', 'check', 'details'], input.checks.map((c) => [c.passed ? 'pass' : '**FAIL**', c.name, c.failures.join('; ')])), '']
      : []),
    '## Trials',
    '',
    ...table(
      ['trial', 'stream', 'received', 'lost', 'duplicates', 'reordered', 'not sent', 'downtime', 'disruption', 'noise floor', 'switching', 'resume → first packet'],
      run.trials.flatMap((t) =>
        t.streams.map((s) => {
          const a = s.analysis;
          const value = (m: MetricName) => {
            const r = readingOf(m, t, s);
            const text = readingIn(metrics[m].unit, r);
            return r.didNotResume ? `**${text}**` : text;
          };
          return [t.label, s.label, String(a.received), `${a.lost} (${a.lossBasis})`, String(a.duplicates), String(a.reordered), value('sendErrors'), value('downtimeMs'), value('disruptionMs'), value('noiseFloorMs'), value('switchingMs'), value('resumeToFirstPacketMs')];
        }),
      ),
    ),
    '',
    '## Timelines',
    '',
    ...run.trials.flatMap((t) => [
      `### ${t.label}`,
      '',
      ...table(['t (ms)', 'what', 'where', 'detail'], t.timeline.map((e) => [e.relMs.toFixed(3), e.kind, e.source, e.detail ?? ''])),
      '',
      ...t.windows.map((w) => `- ${w.label}: ${ms(w.endMs - w.startMs, 3)} window${w.switchingMs !== null ? `, switching ${ms(w.switchingMs, 3)}` : ''}`),
      '',
    ]),
    '## Clocks',
    '',
    `Reference: ${input.clock.reference}; receive timestamps: ${input.clock.receiveTimestamps}. ${input.clock.note}.`,
    ...input.clock.offsets.map((o) => `- ${o.of}: offset ${ms(o.offsetMs, 3)} ± ${ms(o.uncertaintyMs, 3)} (${o.method})`),
    '',
  ];
  return out.join('\n');
}

export const markdownReporter: Reporter = {
  name: 'markdown',
  description: 'report.md: summary table with the papers’ figures in a labelled reference column, the steps’ measurements, thresholds, trials, timelines',
  render: async (run) => [{ name: 'report.md', content: render(run) }],
};
