import { Command } from 'commander';
import { attach, type StartedLab } from '../../lab/lab.js';
import { alive } from '../../lab/processes.js';
import { printJson, stateDirOption, table } from '../output.js';
import { hostTarget } from '../../substrate/ssh/connections.js';

/** What `inspect --json` prints: the recorded lab plus each node's live state. */
export async function describeLab(lab: StartedLab) {
  const s = lab.snapshot;
  const nodes = await Promise.all(
    s.topology.nodes.map(async (n) => {
      const live = await lab.shell(n.name).exec(['ip', '-j', 'addr', 'show'], { check: false });
      const links = live.exitCode === 0 ? (JSON.parse(live.stdout) as { ifname: string; operstate: string; address?: string; addr_info?: { family: string; local: string; prefixlen: number }[] }[]) : [];
      return {
        name: n.name,
        kind: n.kind,
        ...(n.host ? { host: n.host } : {}),
        running: live.exitCode === 0,
        interfaces: links
          .filter((l) => l.ifname !== 'lo')
          .map((l) => ({ name: l.ifname, state: l.operstate, mac: l.address, ipv4: (l.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`) })),
        routes: n.routes,
      };
    }),
  );
  const workloads = s.topology.workloads.map((w) => {
    const rec = lab.workload(w.name);
    return { name: w.name, kind: w.kind, ipv4: w.ipv4, mac: w.mac, on: rec?.on ?? null, pid: rec?.pid ?? null, running: !!rec && alive(rec.pid), ...(rec ? { details: rec.details } : {}) };
  });
  // A lab across hosts: how each is reached, its tunnels, and each host's clock offset now.
  const across = s.topology.hosts && {
    hosts: s.topology.hosts.map((h) => ({ name: h.name, address: h.address, route: hostTarget(h).route })),
    tunnels: s.objects.filter((o) => o.kind === 'tunnel').map((o) => ({ host: o.host, node: o.node, interface: o.name, vni: o.vni })),
    clock: await lab.clock(),
  };
  return { name: s.name, id: s.id, mark: s.mark, substrate: s.substrate, status: s.status, createdAt: s.createdAt, topologyFile: s.topologyFile, stateDir: lab.path, ...across, nodes, workloads, processes: s.processes };
}

export async function printLab(lab: StartedLab): Promise<void> {
  const d = await describeLab(lab);
  const hosts = d.hosts !== undefined;
  const rows = d.nodes.flatMap((n) => {
    const ifs = n.interfaces.length ? n.interfaces : [{ name: '-', state: '', mac: '', ipv4: [] as string[] }];
    return ifs.map((i, k) => [k ? '' : n.name, k ? '' : n.kind, ...(hosts ? [k ? '' : (n.host ?? '')] : []), k ? '' : n.running ? 'running' : 'MISSING', i.name, i.ipv4.join(',') || '-', i.mac ?? '']);
  });
  console.log(table(['NODE', 'KIND', ...(hosts ? ['HOST'] : []), 'STATE', 'IFACE', 'IPV4', 'MAC'], rows));
  if (d.hosts) {
    const offset = (h: string) => d.clock?.offsets.find((o) => o.of === `host ${h}`);
    const hr = d.hosts.map((h) => [h.name, h.route, d.tunnels!.filter((t) => t.host === h.name).length.toString(), offset(h.name) ? `${offset(h.name)!.offsetMs.toFixed(3)} ± ${offset(h.name)!.uncertaintyMs.toFixed(3)} ms` : '']);
    console.log('\n' + table(['HOST', 'REACHED AS', 'TUNNEL ENDS', 'CLOCK OFFSET'], hr));
  }
  if (d.workloads.length) {
    const wl = d.workloads.map((w) => [w.name, w.kind, w.on ?? '(not started)', w.running ? 'running' : 'STOPPED', w.ipv4, w.mac, w.details?.accel ?? w.details?.container?.slice(0, 12) ?? '']);
    console.log('\n' + table(['WORKLOAD', 'KIND', 'ON', 'STATE', 'IPV4', 'MAC', 'DETAIL'], wl));
  }
}

export function inspectCommand(): Command {
  return new Command('inspect')
    .description("show a lab's nodes, interfaces (read live from the kernel), routes and processes")
    .argument('<lab>', 'lab name')
    .addOption(stateDirOption())
    .option('--json', 'print as JSON')
    .addHelpText('after', `
Example:
  $ sudo warplab inspect icoin --json | jq '.nodes[] | {name, interfaces}'`)
    .action(async (name: string, opts: { stateDir: string; json?: boolean }) => {
      const lab = attach(name, opts.stateDir);
      if (opts.json) return printJson(await describeLab(lab));
      const s = lab.snapshot;
      console.log(`lab ${s.name} (${s.substrate}, ${s.status}, mark ${s.mark}, state ${lab.path})\n`);
      await printLab(lab);
      const routes = s.topology.nodes.flatMap((n) => n.routes.map((r) => [n.name, r.to, r.via, r.auto ? 'auto' : 'file']));
      if (routes.length) console.log('\n' + table(['NODE', 'TO', 'VIA', 'FROM'], routes));
      if (s.processes.length) console.log('\n' + table(['PID', 'NODE', 'COMMAND'], s.processes.map((p) => [String(p.pid), p.node, p.argv.join(' ')])));
    });
}
