// A host's clock against the orchestrator's: ping-pongs over one SSH channel to a bash loop
// that answers with $EPOCHREALTIME (no process per answer), the shortest round trip kept.
import type { ClientChannel } from 'ssh2';
import { offsetFromSamples, realtimeNowMs, type ClockOffset, type ClockSample } from '../../probe/clock.js';
import type { SshConnection } from '../../shell/ssh.js';
import { SubstrateError } from '../../errors.js';

const LOOP = `exec bash -c 'while read -r _; do echo "$EPOCHREALTIME"; done'`;

/** The next line the channel sends. */
function line(ch: ClientChannel, buf: { text: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const take = () => {
      const nl = buf.text.indexOf('\n');
      if (nl < 0) return false;
      resolve(buf.text.slice(0, nl));
      buf.text = buf.text.slice(nl + 1);
      return true;
    };
    if (take()) return;
    const onData = (b: Buffer) => {
      buf.text += b.toString();
      if (take()) cleanup();
    };
    const onClose = () => (cleanup(), reject(new SubstrateError('the clock loop ended early (is bash installed on the host?)')));
    const cleanup = () => (ch.off('data', onData), ch.off('close', onClose));
    ch.on('data', onData);
    ch.on('close', onClose);
  });
}

export async function hostClockOffset(conn: SshConnection, samples = 20): Promise<ClockOffset> {
  const got = await conn.converse(LOOP, async (ch) => {
    const buf = { text: '' };
    const out: ClockSample[] = [];
    for (let i = 0; i < samples; i++) {
      const sentMs = realtimeNowMs();
      ch.write('\n');
      const reply = await line(ch, buf);
      const backMs = realtimeNowMs();
      // EPOCHREALTIME has the locale's decimal separator
      out.push({ sentMs, theirsMs: Number(reply.replace(',', '.')) * 1000, backMs });
    }
    return out;
  });
  return offsetFromSamples(`host ${conn.host.name}`, got, `shortest of ${samples} ping-pongs over SSH to bash's $EPOCHREALTIME`);
}
