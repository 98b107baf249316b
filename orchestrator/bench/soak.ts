// Soak: reliability from many fresh labs and many moves, not one green pass. Each lab is the
// ICOIN topology brought up anew; its workload moves PDC ⇄ ADC with both probe streams
// recording (measuredMigration), and after every move both streams must come back — the
// workload sends again and answers its echo. A move after which a stream stays silent is
// counted with its run directory (whose raw/ keeps the consoles, QEMU and watcher logs), and
// the lab is replaced by a fresh one. Exit status: 0 every move came back, 1 otherwise.
//   sudo npm run soak -- --labs 10 --migrations 10 [--kinds vm,container] [--out DIR] [--json]
import { Command, InvalidArgumentError } from 'commander';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { interruptible, table } from '../cli/output.js';
import { up } from '../lab/lab.js';
import { closeSshConnections } from '../substrate/ssh/connections.js';
import { measuredMigration } from '../migration/measured.js';
import { packageRoot } from '../paths.js';
import { summarize } from '../probe/stats.js';
import { loadTopologyFile } from '../topology/load.js';
import type { Topology, WorkloadKind } from '../topology/model.js';
import { workloadsMissing } from '../workload/start.js';

interface SoakOptions {
  labs: number;
  migrations: number;
  kinds: WorkloadKind[];
  out: string;
  keep: boolean;
  stateDir?: string;
  substrate?: string;
  /** An ICOIN-shaped topology file: hypervisors pdc-hv and adc-hv, one workload (default icoin2011-paging.yaml). */
  topology: string;
  signal: AbortSignal;
  log: (line: string) => void;
}

export interface MoveOutcome {
  kind: WorkloadKind;
  lab: number;
  move: number;
  from: string;
  to: string;
  runDir: string;
  /** Streams that never came back after the move. */
  silent: string[];
  /** The move itself failed (the workload stays at the source). */
  error?: string;
  /** Largest gap of each stream that came back. */
  downtimesMs: number[];
}

export interface KindSoak {
  kind: WorkloadKind;
  /** Why this kind could not run here; nothing was measured. */
  skipped?: string;
  labs: number;
  /** Labs that did not come up, and why. */
  upFailures: string[];
  moves: MoveOutcome[];
}

const toInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a whole number ≥ 1');
  return n;
};

/** The ICOIN lab with its workload of this kind, under a name of its own. */
async function soakTopology(kind: WorkloadKind, file: string): Promise<Topology> {
  const t = await loadTopologyFile(file);
  return { ...t, name: `soak-${kind === 'vm' ? 'vm' : 'ct'}`, workloads: t.workloads.map((w) => ({ ...w, kind })) };
}

async function soakKind(kind: WorkloadKind, o: SoakOptions): Promise<KindSoak> {
  const t = await soakTopology(kind, o.topology);
  const missing = await workloadsMissing(t);
  if (missing.length) return { kind, skipped: missing.join('; '), labs: 0, upFailures: [], moves: [] };
  const w = t.workloads[0]!;
  const hvs = t.nodes.filter((n) => n.kind === 'hypervisor').map((n) => n.name);
  const result: KindSoak = { kind, labs: 0, upFailures: [], moves: [] };
  for (let l = 1; l <= o.labs && !o.signal.aborted; l++) {
    o.log(`${kind} lab ${l}/${o.labs}: up`);
    let lab;
    try {
      lab = await up(t, { signal: o.signal, ...(o.stateDir ? { stateDir: o.stateDir } : {}), ...(o.substrate ? { substrate: o.substrate } : {}) });
    } catch (e) {
      if (o.signal.aborted) break;
      // up removed what it made; the failure counts, and the next lab is a fresh try.
      result.upFailures.push(`lab ${l}: ${(e as Error).message}`);
      o.log(`${kind} lab ${l}: up FAILED: ${(e as Error).message}`);
      continue;
    }
    result.labs++;
    try {
      let at = w.on;
      for (let m = 1; m <= o.migrations && !o.signal.aborted; m++) {
        const to = hvs.find((h) => h !== at)!;
        const runDir = join(o.out, `${kind}-lab${l}-move${m}`);
        const r = await measuredMigration(lab, w.name, to, { runDir, signal: o.signal });
        if (o.signal.aborted) break;
        const streams = r.run.trials[0]!.streams;
        const outcome: MoveOutcome = {
          kind,
          lab: l,
          move: m,
          from: at,
          to,
          runDir,
          silent: streams.filter((s) => s.analysis.didNotResume > 0).map((s) => s.label),
          ...(r.error ? { error: (r.error as Error).message } : {}),
          downtimesMs: streams.flatMap((s) => s.analysis.windows.filter((x) => x.resumed && x.downtimeMs !== null).map((x) => x.downtimeMs!)),
        };
        result.moves.push(outcome);
        const bad = outcome.silent.length > 0 || outcome.error !== undefined;
        o.log(`${kind} lab ${l} move ${m} ${at} → ${to}: ${bad ? `FAILED ${outcome.error ?? `silent: ${outcome.silent.join(', ')}`} (${runDir})` : `ok, largest gaps ${outcome.downtimesMs.map((d) => d.toFixed(1)).join(' / ')} ms`}`);
        if (!bad && !o.keep) rmSync(runDir, { recursive: true, force: true });
        // A silent workload is gone for this lab: the next moves start from a fresh one.
        if (outcome.silent.length) break;
        if (!r.error) at = to;
      }
    } finally {
      await lab.down();
    }
  }
  return result;
}

export async function soak(o: SoakOptions): Promise<KindSoak[]> {
  mkdirSync(o.out, { recursive: true });
  const out: KindSoak[] = [];
  for (const kind of o.kinds) if (!o.signal.aborted) out.push(await soakKind(kind, o));
  return out;
}

function summaryRows(results: readonly KindSoak[]): string[][] {
  return results.map((r) => {
    if (r.skipped) return [r.kind, '0', '0', '-', '-', '-', '-', `skipped: ${r.skipped}`];
    const silent = r.moves.filter((m) => m.silent.length).length;
    const failed = r.moves.filter((m) => m.error !== undefined && !m.silent.length).length;
    const s = summarize(r.moves.flatMap((m) => m.downtimesMs));
    return [r.kind, String(r.labs), String(r.upFailures.length), String(r.moves.length), String(silent), String(failed), s ? `${s.median.toFixed(1)} / ${s.max.toFixed(1)}` : '-', ''];
  });
}

function main(): void {
  new Command('soak')
    .description('many fresh labs, many moves: count the moves after which a workload stays silent')
    .option('--labs <n>', 'fresh labs per workload kind', toInt, 10)
    .option('--migrations <n>', 'moves per lab, alternating PDC ⇄ ADC', toInt, 10)
    .option('--kinds <list>', 'workload kinds: vm, container (a kind this machine cannot run is skipped, saying why)', 'vm,container')
    .option('--out <dir>', 'where run directories of failed moves go (default warplab-runs/soak-TIME)')
    .option('--keep', 'keep the run directory of every move, not only of failed ones')
    .option('--state-dir <dir>', 'lab state directory (default $WARPLAB_STATE_DIR or /run/warplab)')
    .option('-s, --substrate <name>', 'where nodes run (default netns; ssh for a file with hosts)')
    .option('--topology <file>', 'an ICOIN-shaped topology (default topologies/icoin2011-paging.yaml; topologies/icoin2011-paging-3hosts.yaml spreads it over three SSH hosts)')
    .option('--json', 'print every move as JSON')
    .addHelpText('after', `
Each lab is topologies/icoin2011-paging.yaml brought up anew (lab soak-vm or soak-ct). Its
workload moves PDC ⇄ ADC with the probe recording 1 s before and after every move; a move
counts as silent when either stream (workload → U, U → workload's echo → U) never comes
back. The lab is then replaced by a fresh one. Every lab is taken down, also on Ctrl-C.

Example (the reliability claim in the README: 100 moves over 10 fresh labs per kind):
  $ sudo npm run soak -- --labs 10 --migrations 10 --kinds vm
Across three SSH hosts (WARPLAB_SSH_CONFIG names them):
  $ sudo npm run soak -- --labs 10 --migrations 10 --kinds vm --topology topologies/icoin2011-paging-3hosts.yaml`)
    .action(async (opts: { labs: number; migrations: number; kinds: string; out?: string; keep?: boolean; stateDir?: string; substrate?: string; topology?: string; json?: boolean }) => {
      const kinds = opts.kinds.split(',').map((k) => k.trim());
      const unknown = kinds.filter((k) => k !== 'vm' && k !== 'container');
      if (unknown.length) {
        console.error(`soak: unknown kind ${unknown.join(', ')}: use vm, container`);
        process.exit(2);
      }
      const irq = interruptible();
      const out = resolve(opts.out ?? join('warplab-runs', `soak-${new Date().toISOString().slice(0, 19).replace(/:/g, '-')}`));
      try {
        const results = await soak({
          labs: opts.labs,
          migrations: opts.migrations,
          kinds: kinds as WorkloadKind[],
          out,
          keep: !!opts.keep,
          ...(opts.stateDir ? { stateDir: opts.stateDir } : {}),
          ...(opts.substrate ? { substrate: opts.substrate } : {}),
          topology: resolve(opts.topology ?? join(packageRoot, 'topologies', 'icoin2011-paging.yaml')),
          signal: irq.signal,
          log: (line) => process.stderr.write(`${line}\n`),
        });
        const bad = results.flatMap((r) => r.moves.filter((m) => m.silent.length || m.error !== undefined));
        if (opts.json) console.log(JSON.stringify({ schema: 'warplab.soak', out, interrupted: irq.signal.aborted, results }, null, 2));
        else {
          console.log(table(['kind', 'labs up', 'up failed', 'moves', 'silent', 'failed', 'largest gap median / max (ms)', ''], summaryRows(results)));
          for (const f of results.flatMap((r) => r.upFailures.map((x) => `${r.kind} ${x}`))) console.log(`up failed: ${f}`);
          for (const m of bad) console.log(`${m.kind} lab ${m.lab} move ${m.move} ${m.from} → ${m.to}: ${m.error ?? `did not resume: ${m.silent.join(', ')}`}\n  ${m.runDir}`);
        }
        process.exitCode = irq.signal.aborted ? 130 : bad.length || results.some((r) => r.upFailures.length) ? 1 : 0;
      } finally {
        irq.dispose();
        closeSshConnections(); // a lab on SSH hosts: open connections would keep the process running
      }
    })
    .parseAsync(process.argv)
    .catch((e: Error) => {
      console.error(`soak: ${e.message}`);
      process.exitCode = 1;
    });
}

main();
