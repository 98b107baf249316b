// L2 overlay (Kitazume et al.'s overlay designs, criticised in ICOIN 2011 §II for the tunnel
// header and "far from optimal" paths): the DC LANs become one segment over VXLAN between the
// DC gateways, so the workload keeps IP and MAC and no route changes. What follows the
// workload is the VTEPs' forwarding database: pushed by warplab on the trigger (fdb: static,
// the paper's controller), or learned from the workload's announcement (fdb: learn).
import type { LabExtension } from '../../lab/extension.js';
import type { LabHandle } from '../../lab/handle.js';
import { realtimeNowMs } from '../../probe/clock.js';
import { LocalShell } from '../../shell/local.js';
import { hasCommand } from '../../shell/shell.js';
import { settingsOf, type Topology, type WorkloadSpec } from '../../topology/model.js';
import { ensureBridge } from '../../workload/port.js';
import type { AddressStrategy, Armed, ArmOptions, MovePlan, NetworkChange, NodeRules, Placement, SettingsReport } from '../strategy-types.js';
import { vtepScript } from './l2-overlay/devices.js';
import { startFdbMonitors } from './l2-overlay/learned.js';
import { overlayPlan, placeUpdates, type FdbUpdate, type L2OverlayData } from './l2-overlay/plan.js';
import { checkOverrides, checkSettings, overlayOf, parseSettings, settingsSchema, withOverrides, type L2OverlaySettings } from './l2-overlay/settings.js';
import { LISTENER_COMMANDS, type NodeAction } from './listeners.js';
import { armPrepared } from './prepared-switch.js';

const NAME = 'l2-overlay';

/** After the announcement, how long the VTEPs get to learn the MAC before the move reports without it. */
const LEARN_WAIT_MS = 2000;

const settingsIn = (t: Topology) => settingsOf<L2OverlaySettings>(t, NAME);

const vtepsExtension: LabExtension = {
  name: NAME,
  // Only the VTEPs' Shells; an SSH host's bridge is checked by the substrate.
  spansHosts: true,
  wanted: (t) => !!settingsIn(t),
  needsOnNodes: (t) => overlayOf(t, settingsIn(t)!).vteps.flatMap((v) => LISTENER_COMMANDS.map((c) => ({ node: v.node, ...c }))),
  async missing(t) {
    if (t.hosts) return [];
    const local = new LocalShell('host');
    return (await hasCommand(local, 'bridge')) ? [] : ['bridge is missing (the VTEPs\' forwarding databases): apt-get install iproute2'];
  },
  async start(lab, ctx) {
    const s = settingsIn(lab.topology);
    const o = overlayOf(lab.topology, s);
    ctx.onProgress?.({ stage: 'VTEPs', done: 0, total: o.vteps.length });
    let done = 0;
    await Promise.all(
      o.vteps.map(async (v) => {
        const shell = lab.shell(v.node);
        const br = await ensureBridge(shell, v.port, lab.mark);
        await shell.exec(['sh', '-ec', vtepScript(lab.topology, o, s, v, br, lab.mark)]);
        ctx.onProgress?.({ stage: 'VTEPs', done: ++done, total: o.vteps.length });
      }),
    );
  },
  // The VXLAN devices, bridges and entries live in the VTEPs' namespaces and go with them.
  stop: async () => [],
};

/** Applies FDB updates now: additions must succeed, removals may have been done by learning. */
async function applyUpdates(lab: LabHandle, updates: FdbUpdate[]): Promise<NetworkChange[]> {
  return Promise.all(
    updates.map(async (u) => {
      const shell = lab.shell(u.node);
      if (u.add.length) await shell.exec(['bridge', '-batch', '-'], { input: u.add.join('\n') + '\n' });
      if (u.del.length) await shell.exec(['bridge', '-force', '-batch', '-'], { input: u.del.join('\n') + '\n', check: false });
      return { node: u.node, action: 'fdb', detail: u.detail, atMs: realtimeNowMs() };
    }),
  );
}

/** Each VTEP's part on `go`: its prepared `bridge -batch` files. */
function actionsOf(updates: FdbUpdate[]): NodeAction[] {
  return updates.map((u) => ({
    node: u.node,
    detail: u.detail,
    files: { ...(u.add.length ? { add: u.add.join('\n') + '\n' } : {}), ...(u.del.length ? { del: u.del.join('\n') + '\n' } : {}) },
    commands: [...(u.add.length ? ['bridge -batch {files}.add'] : []), ...(u.del.length ? ['{ bridge -force -batch {files}.del || true; }'] : [])],
  }));
}

export class L2Overlay implements AddressStrategy<L2OverlaySettings, L2OverlayData> {
  readonly name = NAME;
  readonly summary = 'Kitazume et al.: the DC LANs as one segment over VXLAN between the gateways; the VTEPs\' FDB follows the workload (pushed, or learned)';
  readonly settingsSchema = settingsSchema;
  readonly extension = vtepsExtension;

  settings(raw: unknown): L2OverlaySettings {
    return parseSettings(raw);
  }

  check(t: Topology, s: L2OverlaySettings, report: SettingsReport): void {
    checkSettings(t, s, report);
  }

  checkOverrides(t: Topology, raw: unknown, report: SettingsReport): void {
    checkOverrides(t, raw, report);
  }

  joinedLans(t: Topology, s: L2OverlaySettings): string[][] {
    const lans = overlayOf(t, s).vteps.map((v) => v.lan);
    return lans.length > 1 ? [lans] : [];
  }

  plan(t: Topology, w: WorkloadSpec, from: string, to: string, placement: Placement, overrides?: unknown): MovePlan<L2OverlayData> {
    return overlayPlan(t, withOverrides(settingsIn(t), overrides), w, from, to, placement);
  }

  /** static: every VTEP's entry for `w` as if it had always been on `hv`; learn: nothing to set. */
  async place(lab: LabHandle, w: WorkloadSpec, hv: string): Promise<NetworkChange[]> {
    const s = settingsIn(lab.topology);
    if (s.fdb === 'learn') return [];
    return applyUpdates(lab, placeUpdates(lab.topology, overlayOf(lab.topology, s), w, hv));
  }

  /** Per VTEP: its VXLAN device, the entries for workload MACs, the remote VTEPs it floods to. */
  async rules(lab: LabHandle): Promise<NodeRules[]> {
    const t = lab.topology;
    const o = overlayOf(t, settingsIn(t));
    const macs = new Map(t.workloads.map((w) => [w.mac, w.name]));
    return Promise.all(
      o.vteps.map(async (v) => {
        const shell = lab.shell(v.node);
        const link = (JSON.parse((await shell.exec(['ip', '-j', '-d', 'link', 'show', 'dev', o.device])).stdout) as { mtu: number; master?: string; linkinfo: { info_data: { id: number; local: string; port: number; learning: boolean } } }[])[0]!;
        const d = link.linkinfo.info_data;
        type Entry = { mac: string; ifname?: string; dst?: string; master?: string; state?: string };
        const fdb = JSON.parse((await shell.exec(['bridge', '-j', 'fdb', 'show'])).stdout) as Entry[];
        const where = (e: Entry) => (e.dst ? `${e.ifname} → ${e.dst} (${o.vteps.find((x) => x.address === e.dst)?.node ?? '?'})` : `${e.ifname} (bridge ${e.master})`);
        return {
          node: v.node,
          strategy: NAME,
          tables: [
            { title: 'VXLAN device', header: ['DEVICE', 'VNI', 'LOCAL', 'DSTPORT', 'LEARNING', 'MTU', 'BRIDGE'], rows: [[o.device, String(d.id), d.local, String(d.port), d.learning ? 'yes' : 'no', String(link.mtu), link.master ?? '-']] },
            { title: 'FDB entries for workload MACs', header: ['MAC', 'WORKLOAD', 'WHERE', 'STATE'], rows: fdb.filter((e) => macs.has(e.mac)).map((e) => [e.mac, macs.get(e.mac)!, where(e), e.state || 'learned']) },
            { title: 'remote VTEPs (flooding)', header: ['DEVICE', 'REMOTE'], rows: fdb.filter((e) => e.mac === '00:00:00:00:00:00' && e.dst).map((e) => [e.ifname!, `${e.dst} (${o.vteps.find((x) => x.address === e.dst)?.node ?? '?'})`]) },
          ],
        };
      }),
    );
  }

  async arm(lab: LabHandle, p: MovePlan<L2OverlayData>, o: ArmOptions): Promise<Armed> {
    const d = p.data;
    const monitors = d.fdb === 'learn' ? await startFdbMonitors(lab, o.dir, d.vteps) : undefined;
    let armed: Armed;
    try {
      armed = await armPrepared(lab, p, o, { prefix: 'l2', action: 'fdb', actions: actionsOf(d.updates), mac: d.mac, address: d.address });
    } catch (e) {
      monitors?.stop();
      throw e;
    }
    // At its new place: on the destination VTEP's LAN port, elsewhere behind the tunnel.
    const isNew = (node: string, entry: string) => (node === d.at ? !entry.includes(`dev ${d.device} `) : entry.includes(`dev ${d.device} `));
    return {
      async settled(timeoutMs) {
        try {
          const out = await armed.settled(timeoutMs);
          if (!monitors) return out;
          const learned = await monitors.learned(d.mac, isNew, LEARN_WAIT_MS);
          for (const c of learned) o.events.add({ atMs: c.atMs, kind: 'network-changed', source: c.node, detail: `learned ${c.detail}` });
          return { ...out, changes: [...out.changes, ...learned] };
        } finally {
          monitors?.stop();
        }
      },
      async disarm() {
        monitors?.stop();
        await armed.disarm();
      },
    };
  }
}
