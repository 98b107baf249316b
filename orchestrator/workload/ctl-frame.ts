// The framing of a VM guest's control channel, as agents/vm-guest/ctl-serve speaks it: one
// request, one response, over a byte stream that may also carry the guest's "ready" lines and
// the leftovers of a request whose host went away (a timeout, a Ctrl-C). A random id tells
// this request's response from those.
import { randomBytes } from 'node:crypto';
import { LabError } from '../errors.js';
import { shQuote } from '../shell/shell.js';
import type { Answer } from './answer.js';

const MAGIC = 'warplab-ctl';

export interface CtlRequest {
  /** Lowercase hex. */
  id: string;
  /** A sh script: what the guest runs. */
  script: string;
  /** The script's stdin. */
  input: string;
  /** The guest kills the script (SIGKILL) after this many seconds; 0: never. */
  timeoutS: number;
}

export function newRequestId(): string {
  return randomBytes(8).toString('hex');
}

/** argv (with env variables before it) as the script the guest runs. */
export function guestScript(argv: readonly string[], env: Record<string, string> = {}): string {
  const vars = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  return (vars.length ? ['env', ...vars, ...argv] : argv).map(shQuote).join(' ');
}

/** `warplab-ctl ID TIMEOUT_S INPUT_LEN SCRIPT_BASE64\n`, then the input. */
export function encodeRequest(r: CtlRequest): Buffer {
  const input = Buffer.from(r.input);
  const script = Buffer.from(r.script).toString('base64');
  return Buffer.concat([Buffer.from(`${MAGIC} ${r.id} ${r.timeoutS} ${input.length} ${script}\n`), input]);
}

/**
 * The response to request `id` in all that the guest sent on this connection, once the whole
 * of it is there: a line `warplab-ctl ID EXIT OUT_LEN ERR_LEN`, then OUT_LEN bytes of stdout
 * and ERR_LEN of stderr. Anything before that line is someone else's.
 */
export function decodeResponse(received: Buffer, id: string): Answer | undefined {
  const tag = `${MAGIC} ${id} `;
  let at = received.indexOf(tag);
  while (at > 0 && received[at - 1] !== 0x0a) at = received.indexOf(tag, at + 1);
  if (at < 0) return undefined;
  const eol = received.indexOf(0x0a, at);
  if (eol < 0) return undefined;
  const header = received.subarray(at + tag.length, eol).toString('latin1');
  const m = /^(\d+) (\d+) (\d+)$/.exec(header);
  if (!m) throw new LabError(`the guest's control channel answered request ${id} with "${header}", not "EXIT OUT_LEN ERR_LEN"`);
  const [exitCode, outLen, errLen] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const body = received.subarray(eol + 1);
  if (body.length < outLen + errLen) return undefined;
  return { exitCode, stdout: body.subarray(0, outLen).toString(), stderr: body.subarray(outLen, outLen + errLen).toString() };
}
