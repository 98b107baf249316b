// switch: change one page of a translator live (ICN 2011 §V: the rule at the users' edge
// routers is switched when the VM moves), as `warplab switch` does.
import { parseAddr, parseCidr } from '../../topology/ipv4.js';
import { nodeByName } from '../../topology/model.js';
import { switchPage } from '../../translator/control.js';
import type { StepKind } from '../step.js';
import { few } from './where.js';

interface SwitchArgs {
  router: string;
  /** A page name of the router, a LAN prefix or one address. */
  target: string;
  /** A WAN prefix of the target's size, or "pass". */
  to: string;
}

export const switchStep: StepKind<SwitchArgs> = {
  name: 'switch',
  summary: 'switch a translator page live: `switch: {router: R3, target: 172.16.10.2, to: pass}`',
  parse: (raw) => ({ router: raw.router, target: raw.target, to: raw.to }),
  describe: (a) => `switch ${a.router} ${a.target} → ${a.to}`,
  check: (a, ctx) => {
    const t = ctx.topology;
    const r = nodeByName(t, a.router);
    if (!r?.translator) {
      const names = t.nodes.filter((n) => n.translator).map((n) => n.name);
      ctx.report(['router'], r ? `${a.router} runs no translator` : `unknown node "${a.router}"`, names.length ? `translators: ${few(names)}` : `topology ${t.name} has no translator`);
      return;
    }
    const named = r.translator.pages.find((p) => p.name === a.target);
    const lan = named?.lan ?? (a.target.includes('/') ? a.target : parseAddr(a.target) !== undefined ? `${a.target}/32` : undefined);
    if (!lan || !parseCidr(lan)) {
      const pages = r.translator.pages.flatMap((p) => (p.name ? [p.name] : []));
      ctx.report(['target'], `"${a.target}" is neither a page of ${a.router} nor an address or prefix`, pages.length ? `pages of ${a.router}: ${few(pages)}; or an address such as 172.16.10.2` : 'write an address such as 172.16.10.2 or a prefix such as 172.16.0.0/16');
      return;
    }
    if (a.to !== 'pass' && parseCidr(a.to)?.len !== parseCidr(lan)!.len) {
      ctx.report(['to'], `"${a.to}" is not "pass" or a WAN prefix of the size of ${lan}`, `write pass, or a /${parseCidr(lan)!.len} prefix`);
    }
  },
  run: async (a, ctx) => {
    const r = await switchPage(ctx.lab, a.router, a.target, a.to);
    ctx.events.record('translator-switched', a.router, `${r.rule} (scenario step; kernel ${r.kernelUs} µs)`);
    return { details: { router: r.router, rule: r.rule, kernelUs: r.kernelUs, roundTripMs: r.roundTripMs } };
  },
};
