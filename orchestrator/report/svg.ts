// timeline-TRIAL.svg: packet inter-arrival over time with windows shaded and events marked,
// rendered headless by vega-lite → vega (no browser, no canvas, no network).
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { didNotResume, slug } from './format.js';
import type { Reporter } from './reporter-types.js';
import type { ProbeRun } from './run.js';
import { streamLandmarks, type TrialResult } from './trial.js';

/** Log scale needs positive values; two arrivals in one nanosecond would give 0. */
const FLOOR_MS = 1e-3;
const ALARM = '#d62728';
const HEIGHT = 320;

function timelineSpec(runName: string, t: TrialResult): TopLevelSpec {
  const points = t.streams.flatMap((s) => {
    const first = s.analysis.firstMs;
    return first === null ? [] : s.analysis.series.map(([at, gap]) => ({ t: first - t.originMs + at, gap: Math.max(gap, FLOOR_MS), stream: s.label }));
  });
  const events = t.timeline.filter((e) => !(streamLandmarks as readonly string[]).includes(e.kind)).map((e) => ({ t: e.relMs, label: `${e.kind} (${e.source})` }));
  const windows = t.windows.map((w) => ({ start: w.startMs - t.originMs, end: w.endMs - t.originMs, label: w.label }));
  // A stream that never came back: its silence to the end of the recording, in red, named at
  // its right end (the plot's), where the label always fits.
  const stopped = t.streams.filter((s) => s.analysis.didNotResume);
  const silences = stopped.flatMap(({ label, analysis: a }) =>
    a.lastMs === null || a.endMs === null ? [] : [{ start: a.lastMs - t.originMs, end: a.endMs - t.originMs, label: `${label}: ${didNotResume(a.windows.find((w) => !w.resumed)!.downtimeMs)}`.toUpperCase() }],
  );
  const x = { field: 't', type: 'quantitative', title: 'time since trial start (ms)' } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `${runName}, ${t.label}: packet inter-arrival`,
      subtitle: ['shaded: disruption windows; dashed: events', ...(stopped.length ? [`red: DID NOT RESUME: ${stopped.map((s) => s.label).join(', ')}`] : [])],
      subtitleColor: stopped.length ? ALARM : '#444',
    },
    width: 900,
    height: HEIGHT,
    background: 'white',
    layer: [
      { data: { values: windows }, mark: { type: 'rect', color: '#f58518', opacity: 0.15 }, encoding: { x: { field: 'start', type: 'quantitative' }, x2: { field: 'end' } } },
      {
        data: { values: points },
        mark: { type: 'line', strokeWidth: 1, interpolate: 'step-after' },
        encoding: { x, y: { field: 'gap', type: 'quantitative', scale: { type: 'log' }, title: 'inter-arrival (ms, log scale)' }, color: { field: 'stream', type: 'nominal', title: 'stream' } },
      },
      { data: { values: events }, mark: { type: 'rule', color: '#444', strokeDash: [4, 3] }, encoding: { x } },
      { data: { values: events }, mark: { type: 'text', angle: 270, align: 'right', baseline: 'bottom', dx: -4, fontSize: 9, color: '#444' }, encoding: { x, y: { value: 2 }, text: { field: 'label' } } },
      ...(silences.length ? [{ data: { values: silences }, mark: { type: 'rect', color: ALARM, opacity: 0.2 }, encoding: { x: { field: 'start', type: 'quantitative' }, x2: { field: 'end' } } } as const] : []),
      ...silences.map((d, i) => ({ data: { values: [d] }, mark: { type: 'text', align: 'right', baseline: 'middle', dx: -6, fontSize: 12, fontWeight: 'bold', color: ALARM }, encoding: { x: { field: 'end', type: 'quantitative' }, y: { value: HEIGHT / 2 + 16 * i }, text: { field: 'label' } } }) as const),
    ],
  };
}

/** A vega-lite spec as SVG, headless. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export const svgReporter: Reporter = {
  name: 'svg',
  description: 'timeline-TRIAL.svg: inter-arrival over time with event markers, one per trial',
  render: (run: ProbeRun) => Promise.all(run.trials.map(async (t) => ({ name: `timeline-${slug(t.label)}.svg`, content: await renderSvg(timelineSpec(run.input.name, t)) }))),
};
