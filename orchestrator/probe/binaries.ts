// The one place that knows where the static probe programs are built.
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../paths.js';
import { ProbeError } from './errors.js';

export type ProbeProgram = 'udp-send' | 'udp-recv';

/** Path of a probe program on the orchestrator's machine (the netns substrate shares it). */
export function probeBinary(program: ProbeProgram): string {
  const path = join(packageRoot, 'agents', 'build', program);
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new ProbeError(`${path} is missing or not executable: build the agents with \`bash ci/setup.sh\` (or \`make -C agents/udp-probe\`)`);
  }
  return path;
}
