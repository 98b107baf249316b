// JSON Schema validation (ajv) with errors turned into Issues that point at the YAML.
import { readFileSync } from 'node:fs';
import AjvModule, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { Issue } from '../errors.js';
import { pathString, type Locator, type YamlPath } from './source.js';

const Ajv = AjvModule.default ?? AjvModule;
const cache = new Map<string | object, ValidateFunction>();

/** A schema file by path, or a plugin's schema fragment by identity. */
function compiled(schema: string | object): ValidateFunction {
  let v = cache.get(schema);
  if (!v) {
    const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
    v = ajv.compile(typeof schema === 'string' ? JSON.parse(readFileSync(schema, 'utf8')) : schema);
    cache.set(schema, v);
  }
  return v;
}

/** Edit distance, for "did you mean" hints. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)] as number[]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]!;
}

export function closest(word: string, choices: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Math.min(Math.max(2, Math.floor(word.length / 3)), word.length - 1) + 1;
  for (const c of choices) {
    const dd = distance(word.toLowerCase(), c.toLowerCase());
    if (dd < bestD) [best, bestD] = [c, dd];
  }
  return best;
}

function pointerToPath(pointer: string): YamlPath {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function describeExpected(e: ErrorObject): string | undefined {
  switch (e.keyword) {
    case 'enum':
      return `one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'type':
      return `a value of type ${(e.params as { type: string }).type}`;
    case 'pattern':
      return `text matching ${(e.params as { pattern: string }).pattern}`;
    case 'const':
      return JSON.stringify((e.params as { allowedValue: unknown }).allowedValue);
    case 'minimum':
    case 'maximum':
      return `a number ${e.keyword === 'minimum' ? '>=' : '<='} ${(e.params as { limit: number }).limit}`;
    default:
      return undefined;
  }
}

/** Hints live in the schema next to the rule they explain (`x-hint`). */
function hintFor(e: ErrorObject): string | undefined {
  return (e.parentSchema as { 'x-hint'?: string } | undefined)?.['x-hint'];
}

/** A key the schema knows only to refuse it with a reason (`x-refused`, e.g. a password). */
function refusal(e: ErrorObject): string | undefined {
  return (e.parentSchema as { 'x-refused'?: string } | undefined)?.['x-refused'];
}

/**
 * Keep the errors a person needs: under oneOf/anyOf, ajv reports every branch; keep the branch
 * whose type matches the data, and drop the summary when a more specific error explains it.
 */
function relevant(errors: ErrorObject[]): ErrorObject[] {
  const specific = errors.filter((e) => e.keyword !== 'type' && e.keyword !== 'oneOf' && e.keyword !== 'anyOf' && e.keyword !== 'if');
  // A branch whose type the data does not have says nothing else about it (a string branch's enum, for an object).
  const otherType = errors.filter((e) => e.keyword === 'type' && /\/(oneOf|anyOf)\/\d+\/type$/.test(e.schemaPath));
  const inOtherType = (e: ErrorObject) => otherType.some((t) => t.instancePath === e.instancePath && e.schemaPath.startsWith(t.schemaPath.slice(0, -'type'.length)));
  return errors.filter((e) => {
    if (e.keyword !== 'type' && inOtherType(e)) return false;
    if (e.keyword === 'oneOf' || e.keyword === 'anyOf') {
      return !specific.some((s) => s.instancePath.startsWith(e.instancePath));
    }
    if (e.keyword === 'type' && /\/(oneOf|anyOf)\/\d+\//.test(e.schemaPath)) return false;
    if (e.keyword === 'const' && /\/(oneOf|anyOf)\/\d+\//.test(e.schemaPath)) return false;
    return true;
  });
}

/** A schema error before it is placed in a file: where (`key`: the key itself) and what. */
export interface SchemaProblem extends Omit<Issue, 'pos' | 'path'> {
  path: YamlPath;
  key: boolean;
}

/**
 * Validates `data` against a schema file, or against a plugin's fragment (a strategy's
 * settings) found at `at`, so that its errors point at the right place too.
 */
export function schemaProblems(data: unknown, schema: string | object, at: YamlPath = []): SchemaProblem[] {
  const validate = compiled(schema);
  if (validate(data)) return [];
  const problems: SchemaProblem[] = [];
  const seen = new Set<string>();
  for (const e of relevant(validate.errors ?? [])) {
    const path = [...at, ...pointerToPath(e.instancePath)];
    let issue: SchemaProblem;
    if (e.keyword === 'additionalProperties') {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      const properties = (e.parentSchema as { properties?: Record<string, { 'x-refused'?: string }> })?.properties ?? {};
      const allowed = Object.keys(properties).filter((k) => !properties[k]!['x-refused']);
      const guess = closest(extra, allowed);
      issue = {
        path: [...path, extra],
        key: true,
        message: `unknown key "${extra}"`,
        expected: allowed.length ? `one of the keys ${allowed.join(', ')}` : undefined,
        hint: guess ? `did you mean "${guess}"?` : 'unknown keys are errors, so that a typo never goes unnoticed',
      };
    } else if (e.keyword === 'not' && refusal(e)) {
      issue = { path, key: true, message: refusal(e)!, hint: hintFor(e) };
    } else if (e.keyword === 'required') {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      issue = { path, key: false, message: `missing required key "${missing}"` };
    } else if (e.keyword === 'propertyNames' || (e.keyword === 'pattern' && e.propertyName !== undefined)) {
      // ajv names the key on the inner error, and in params on the propertyNames summary.
      const name = e.propertyName ?? (e.params as { propertyName: string }).propertyName;
      issue = {
        path: [...path, name],
        key: true,
        message: `invalid name "${name}"`,
        hint: 'names start with a letter and use letters, digits, "_" or "-" (interfaces: lowercase, at most 15 characters)',
      };
    } else if (e.keyword === 'oneOf' || e.keyword === 'anyOf') {
      const alternatives = ((e.schema as any[]) ?? []).map((s: any) => s.description ?? s.type ?? (s.$ref ? s.$ref.split('/').pop() : JSON.stringify(s.const)));
      issue = { path, key: false, message: 'value has the wrong form', expected: alternatives.join(' | ') || undefined, hint: hintFor(e) };
    } else {
      const value = e.keyword === 'pattern' || e.keyword === 'enum' ? ` ${JSON.stringify(e.data)}` : '';
      issue = {
        path,
        key: false,
        message: `invalid value${value}`,
        expected: describeExpected(e) ?? e.message,
        hint: e.keyword === 'enum' && typeof e.data === 'string' ? (() => { const g = closest(e.data, (e.params as { allowedValues: string[] }).allowedValues); return g ? `did you mean "${g}"?` : undefined; })() : hintFor(e),
      };
    }
    const key = `${pathString(issue.path)}|${issue.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      problems.push(issue);
    }
  }
  return problems;
}

/** Schema problems as issues at file:line:col, in file order. */
export function schemaIssues(src: Locator, data: unknown, schema: string | object, at: YamlPath = []): Issue[] {
  return schemaProblems(data, schema, at)
    .map(({ path, key, ...rest }) => ({ pos: src.locate(path, key), path: pathString(path), ...rest }))
    .sort((a, b) => a.pos.line - b.pos.line || a.pos.col - b.pos.col);
}
