// junit.xml: one test case per threshold and per recorded check, so CI systems list and
// track them by name.
import type { Reporter } from './reporter-types.js';
import type { ProbeRun } from './run.js';

function xml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&${({ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' } as Record<string, string>)[c]};`);
}

function render(run: ProbeRun): string {
  const suite = `warplab.probe.${run.input.name}`;
  const results = [...run.thresholds, ...(run.input.checks ?? [])];
  const failures = results.filter((t) => !t.passed).length;
  const cases = results.map((t) => {
    const open = `    <testcase classname="${xml(suite)}" name="${xml(t.name)}"`;
    if (t.passed) return `${open}/>`;
    return `${open}>\n      <failure message="${xml(t.failures[0]!)}" type="${'threshold' in t ? 'threshold' : 'check'}">${xml(t.failures.join('\n'))}</failure>\n    </testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xml(suite)}" tests="${results.length}" failures="${failures}">`,
    `  <testsuite name="${xml(suite)}" tests="${results.length}" failures="${failures}" errors="0" skipped="0" timestamp="${xml(run.generatedAt)}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

export const junitReporter: Reporter = {
  name: 'junit',
  description: 'junit.xml: each threshold and each recorded check a test case',
  render: async (run) => [{ name: 'junit.xml', content: render(run) }],
};
