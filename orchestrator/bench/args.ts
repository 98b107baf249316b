// A benchmark's flags, `--name value`, each with its default. An unknown flag or one without a
// value stops the bench with the known ones listed: a typo never runs a long bench on defaults.
import { parseArgs } from 'node:util';

export function benchArgs<K extends string>(defaults: Record<K, string>): Record<K, string> {
  const options = Object.fromEntries(Object.entries(defaults).map(([k, v]) => [k, { type: 'string' as const, default: v as string }]));
  try {
    return parseArgs({ options, strict: true, allowPositionals: false }).values as Record<K, string>;
  } catch (e) {
    const known = Object.entries(defaults).map(([k, v]) => `--${k} ${v === '' ? '""' : v}`).join(' ');
    console.error(`${(e as Error).message}\nflags (with their defaults): ${known}`);
    process.exit(2);
  }
}
