#!/usr/bin/env node
// Thin launcher: the CLI is compiled TypeScript (built by `npm ci` through the prepare script).
import { existsSync } from 'node:fs';
const main = new URL('../../dist/orchestrator/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error('warplab is not built yet: run `npm ci` (or `npm run build`) in ' + new URL('../..', import.meta.url).pathname);
  process.exit(2);
}
await import(main.href);
