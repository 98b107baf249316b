// The measuring steps rtt and http on captured output (fixtures/measure/, real iputils ping
// -R and curl runs in a lab): parsing, what each step reports, when it fails, and the
// capability check before the first trial.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StartedLab } from '../../lab/lab.js';
import { packageRoot } from '../../paths.js';
import { parseTransfers } from '../../probe/curl.js';
import { parsePing, splitRoute } from '../../probe/ping.js';
import { EventLog } from '../../probe/timeline.js';
import type { StepContext, StepOutcome } from '../../scenario/step.js';
import { httpStep } from '../../scenario/steps/http.js';
import { rttStep } from '../../scenario/steps/rtt.js';
import { loadTopologyFile } from '../../topology/load.js';
import type { Topology } from '../../topology/model.js';
import type { ExecResult } from '../../shell/shell.js';
import { fixtures, RecordingShell } from '../helpers.js';

const captured = (name: string) => readFileSync(join(fixtures, 'measure', name), 'utf8');

/** A step context whose every node answers with `answer`; the shell keeps the calls. */
function context(topology: Topology, answer: (argv: readonly string[]) => Partial<ExecResult>): { ctx: StepContext; shell: RecordingShell } {
  const shell = new RecordingShell(answer);
  const lab = { topology, shell: () => shell } as unknown as StartedLab;
  return { ctx: { lab, monitored: new Set(), cache: new Map(), events: new EventLog(), progress: () => {} }, shell };
}

describe('measuring steps', () => {
  let icoin: Topology;
  before(async () => {
    icoin = await loadTopologyFile(join(packageRoot, 'topologies', 'icoin2011-paging.yaml'));
  });

  describe('ping -R output', () => {
    it('four routers: every reply, one route; the turn (the destination twice) gives the routers one way', () => {
      const p = parsePing(captured('ping-4-routers.txt'));
      assert.equal(p.transmitted, 10);
      assert.deepEqual(p.rttMs, [0.111, 0.134, 0.144, 0.137, 0.141, 0.137, 0.183, 0.136, 0.167, 0.168]);
      assert.deepEqual(p.routes, [['10.3.0.10', '10.254.3.2', '10.255.3.1', '10.255.1.2', '172.16.0.1', '172.16.0.11', '172.16.0.11', '10.255.1.1', '10.255.3.2']]);
      assert.deepEqual(splitRoute(p.routes[0]!), {
        out: ['10.3.0.10', '10.254.3.2', '10.255.3.1', '10.255.1.2', '172.16.0.1', '172.16.0.11'],
        back: ['172.16.0.11', '10.255.1.1', '10.255.3.2'],
        routers: 4,
      });
    });

    it('a route that changes mid-run is kept as a second route', () => {
      const p = parsePing(captured('ping-route-change.txt'));
      assert.equal(p.rttMs.length, 10);
      assert.deepEqual(p.routes, [
        ['10.3.0.10', '10.254.3.2', '10.254.3.1', '10.254.3.1', '10.3.0.1', '10.3.0.10'],
        ['10.3.0.10', '10.3.0.1', '10.254.3.1', '10.254.3.1', '10.3.0.1', '10.3.0.10'],
      ]);
      assert.deepEqual(p.routes.map((r) => splitRoute(r).routers), [1, 1]);
    });

    it('losses and ICMP errors: replies counted apart from the errors', () => {
      const p = parsePing(captured('ping-loss.txt'));
      assert.deepEqual([p.transmitted, p.rttMs.length, p.duplicates], [12, 4, 0]);
      assert.deepEqual(p.errors, ['Destination Net Unreachable (from 10.3.0.1)']);
    });

    it('no reply: requests sent, no time, no route', () => {
      assert.deepEqual(parsePing(captured('ping-no-reply.txt')), { transmitted: 5, rttMs: [], duplicates: 0, errors: [], routes: [] });
    });

    it('a route without a turn (longer than the option holds) has no router count', () => {
      assert.deepEqual(splitRoute(['a', 'b', 'c']), { out: ['a', 'b', 'c'], back: [], routers: null });
      assert.equal(splitRoute(['127.0.0.1', '127.0.0.1', '127.0.0.1', '127.0.0.1']).routers, 0);
    });
  });

  describe('rtt', () => {
    const args = rttStep.parse({ from: 'U', to: 'vm-a', count: 50, 'interval-ms': 100, label: '(i) not migrated', reference: '2.573 ms' });

    it('runs ping -n -R from the node to the target\'s address; details and the table row', async () => {
      const { ctx, shell } = context(icoin, () => ({ stdout: captured('ping-4-routers.txt') }));
      const out = (await rttStep.run(args, ctx)) as StepOutcome;
      assert.deepEqual(shell.calls[0]!.argv, ['ping', '-n', '-R', '-c', '50', '-i', '0.1', '-W', '1', '172.16.10.2']);
      assert.equal(out.failures, undefined);
      const d = out.details!;
      assert.deepEqual([d.label, d.reference, d.address, d.sent, d.received, d.lost, d.hops], ['(i) not migrated', '2.573 ms', '172.16.10.2', 10, 10, 0, 4]);
      assert.equal((d.rttMs as { n: number }).n, 10);
      assert.equal((d.route as string[]).length, 9);
      const m = out.measurement!;
      assert.deepEqual([m.label, m.what, m.summary?.n, m.missing, m.reference], ['(i) not migrated', 'ping RTT U → vm-a (172.16.10.2)', 10, undefined, '2.573 ms']);
      assert.equal(m.detail, '4 routers: 10.3.0.10 → 10.254.3.2 → 10.255.3.1 → 10.255.1.2 → 172.16.0.1 → 172.16.0.11 ⇒ 172.16.0.11 → 10.255.1.1 → 10.255.3.2 …');
    });

    it('says so when the route changed, and counts the lost', async () => {
      const { ctx } = context(icoin, () => ({ stdout: captured('ping-route-change.txt') }));
      assert.match((await rttStep.run(args, ctx))!.measurement!.detail, /; the route changed 1× during the run$/);
      const loss = context(icoin, () => ({ stdout: captured('ping-loss.txt'), exitCode: 0 }));
      const out = (await rttStep.run(args, loss.ctx))!;
      assert.deepEqual([out.details!.lost, out.measurement!.missing, out.failures], [8, '8 lost', undefined]);
    });

    it('no reply at all is a failure, never a figure', async () => {
      const { ctx } = context(icoin, () => ({ stdout: captured('ping-no-reply.txt'), exitCode: 1 }));
      const out = (await rttStep.run(args, ctx))!;
      assert.deepEqual(out.failures, ['no reply from vm-a (172.16.10.2) to 5 pings from U']);
      assert.equal(out.details!.rttMs, null);
      assert.deepEqual([out.measurement!.summary, out.measurement!.missing, out.measurement!.detail], [null, '5 lost', 'no route recorded']);
    });

    it('ping failing to run stops the series', async () => {
      const { ctx } = context(icoin, () => ({ exitCode: 2, stderr: 'ping: socket: Operation not permitted' }));
      await assert.rejects(rttStep.run(args, ctx), /^LabError: ping on U failed \(exit 2\): ping: socket: Operation not permitted$/);
    });

    it('a ping without -R (busybox) is refused before the first trial, once per node', async () => {
      const busybox = context(icoin, () => ({ exitCode: 1, stderr: captured('ping-h-busybox.txt') }));
      await assert.rejects(rttStep.setup!(args, busybox.ctx), /^LabError: U: its ping cannot record the route \(no option -R; busybox ping has none\): install iputils-ping \(bash ci\/setup\.sh does\)$/);
      const iputils = context(icoin, () => ({ exitCode: 2, stdout: captured('ping-h-iputils.txt') }));
      await rttStep.setup!(args, iputils.ctx);
      await rttStep.setup!(args, iputils.ctx);
      assert.deepEqual(iputils.shell.calls.map((c) => c.argv), [['ping', '-h']]);
    });
  });

  describe('curl write-out lines', () => {
    it('status, ms, bytes and curl\'s exit code of each transfer', () => {
      assert.deepEqual(parseTransfers(captured('curl-404.txt'))[2], { status: 404, ms: 4, bytes: 124, curlExit: 0 });
      assert.deepEqual(parseTransfers(captured('curl-refused.txt'))[0], { status: 0, ms: 0.4, bytes: 0, curlExit: 7 });
      assert.deepEqual(parseTransfers(captured('curl-short.txt')), [{ status: 200, ms: 15.711, bytes: 16, curlExit: 18 }]);
      assert.equal(parseTransfers(captured('curl-1M.txt')).length, 10);
    });
  });

  describe('http', () => {
    const args = httpStep.parse({ from: 'U', to: 'vm-a', path: '/1M', count: 10, rate: 10, label: '(i) not migrated', reference: '3.4 ms' });
    const run = async (fixture: string, a = args) => {
      const { ctx, shell } = context(icoin, () => ({ stdout: captured(fixture) }));
      return { out: (await httpStep.run(a, ctx))!, shell };
    };

    it('one curl, the URL count times on stdin, paced by --rate; sizes and times in ms', async () => {
      const { out, shell } = await run('curl-1M.txt');
      const call = shell.calls[0]!;
      assert.deepEqual(call.argv.slice(0, 5), ['curl', '-q', '-K', '-', '--rate']);
      assert.equal(call.argv[5], '10/s');
      assert.equal(call.input, 'url = "http://172.16.10.2/1M"\noutput = "/dev/null"\n'.repeat(10));
      assert.equal(out.failures, undefined);
      assert.deepEqual([out.details!.non200, out.details!.sizes, (out.details!.timeMs as { n: number }).n], [0, { 1048576: 10 }, 10]);
      assert.deepEqual([out.measurement!.what, out.measurement!.detail, out.measurement!.missing], ['HTTP GET /1M U → vm-a (172.16.10.2), 10 at 10/s', '1048576 B', undefined]);
    });

    it('a 404 fails the step and is no sample', async () => {
      const { out } = await run('curl-404.txt', { ...args, count: 5 });
      assert.deepEqual(out.failures, ['1 of 5 responses from http://172.16.10.2/1M were not 200: 404 ×1']);
      assert.deepEqual([out.details!.statuses, out.details!.non200, out.measurement!.summary!.n, out.measurement!.missing], [{ 200: 4, 404: 1 }, 1, 4, '1 failed']);
    });

    it('a short download (curl exit 18) and no connection (000) fail it; fewer lines than requests too', async () => {
      assert.deepEqual((await run('curl-short.txt', { ...args, count: 1 })).out.failures, ['downloads of http://172.16.10.2/1M that ended early: curl exit 18 ×1 (18: shorter than its Content-Length, 28: timed out)']);
      const refused = await run('curl-refused.txt');
      assert.deepEqual(refused.out.failures, ['curl reported 3 of 10 requests (exit 0)', '3 of 3 responses from http://172.16.10.2/1M were not 200: 000 ×3 (000: no response)']);
      assert.deepEqual([refused.out.measurement!.summary, refused.out.measurement!.detail], [null, 'no download']);
    });

    it('curl that made no transfer stops the series; a curl without --rate is refused before the first trial', async () => {
      const { ctx } = context(icoin, () => ({ exitCode: 127, stderr: 'nsenter: failed to execute curl: No such file or directory' }));
      await assert.rejects(httpStep.run(args, ctx), /^LabError: curl on U made no transfer \(exit 127\): nsenter: failed to execute curl: No such file or directory$/);
      await assert.rejects(httpStep.setup!(args, ctx), /^LabError: U: its curl cannot pace requests \(no option --rate, curl ≥ 7\.84\), or there is no curl: install curl \(bash ci\/setup\.sh does\)$/);
    });
  });
});
