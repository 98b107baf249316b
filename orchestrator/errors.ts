// One small error tree: callers branch with instanceof, the CLI maps classes to exit codes.

export class WarplabError extends Error {
  override name = 'WarplabError';
}

export interface SourcePosition {
  file: string;
  line: number;
  col: number;
}

/** One problem in a topology or scenario file, pointing at the YAML that caused it. */
export interface Issue {
  pos: SourcePosition;
  /** YAML path, e.g. `nodes.R1.interfaces.eth0.ipv4`. */
  path: string;
  message: string;
  /** What was expected, when the schema knows. */
  expected?: string;
  hint?: string;
}

export function formatIssue(i: Issue): string {
  let s = `${i.pos.file}:${i.pos.line}:${i.pos.col}: ${i.path || '(top)'}: ${i.message}`;
  if (i.expected) s += `\n    expected: ${i.expected}`;
  if (i.hint) s += `\n    hint: ${i.hint}`;
  return s;
}

/** All problems of a file at once, not one per run. */
export class TopologyError extends WarplabError {
  override name = 'TopologyError';
  constructor(readonly issues: Issue[]) {
    super(`${issues.length} problem${issues.length === 1 ? '' : 's'} found:\n` + issues.map(formatIssue).join('\n'));
  }
}

export class SubstrateError extends WarplabError {
  override name = 'SubstrateError';
}

export class LabError extends WarplabError {
  override name = 'LabError';
}

export class ExecError extends WarplabError {
  override name = 'ExecError';
  constructor(
    readonly argv: readonly string[],
    readonly host: string,
    readonly exitCode: number | null,
    readonly stdout: string,
    readonly stderr: string,
    readonly durationMs: number,
  ) {
    const err = stderr.trim().split('\n').slice(-5).join('\n    ');
    super(`command failed on ${host} (exit ${exitCode ?? 'signal'}, ${durationMs.toFixed(0)} ms): ${argv.join(' ')}` + (err ? `\n    ${err}` : ''));
  }
}

export class ReadinessTimeout extends WarplabError {
  override name = 'ReadinessTimeout';
}

/** Raised when an operation is cancelled (Ctrl-C, AbortSignal). */
export class Interrupted extends WarplabError {
  override name = 'Interrupted';
}

/** A migration that failed or was cancelled; the message says where the workload runs now. */
export class MigrationError extends WarplabError {
  override name = 'MigrationError';
}
