// What the orchestrator asks of running translator agents: their tables, counters, switches.
import { LabError } from '../errors.js';
import type { LabHandle } from '../lab/handle.js';
import { parseAddr, parseCidr } from '../topology/ipv4.js';
import { agentSocket, ask } from './agent.js';
import type { PageSpec } from '../topology/model.js';
import { ruleLine } from './pages.js';

function translatorNode(lab: LabHandle, router: string) {
  const n = lab.topology.nodes.find((x) => x.name === router);
  if (!n?.translator) {
    const names = lab.topology.nodes.filter((x) => x.translator).map((x) => x.name);
    throw new LabError(`${router} runs no translator in lab ${lab.name}` + (names.length ? `; translators: ${names.join(', ')}` : '; the lab has none'));
  }
  return n;
}

export async function translatorStatus(lab: LabHandle, router: string) {
  translatorNode(lab, router);
  const sock = agentSocket(lab, router);
  const [health, rules, counters] = await Promise.all([ask(sock, ['health']), ask(sock, ['rules']), ask(sock, ['counters'])]);
  const { ok: _c, ...c } = counters;
  return {
    router,
    backend: health.backend as string,
    pid: health.pid as number,
    since: health.since as string,
    rules: rules.rules as string[],
    counters: c as Record<string, number>,
  };
}

export interface SwitchResult {
  router: string;
  rule: string;
  /** Time the kernel update took, as the agent measured it. */
  kernelUs: number;
  /** Control call → answer, as the orchestrator measured it. */
  roundTripMs: number;
}

/**
 * Switch a page (by name), a LAN prefix or one address of a router to a new WAN prefix,
 * or to pass. The mapping of an existing page with that LAN prefix is kept.
 */
export async function switchPage(lab: LabHandle, router: string, target: string, to: string): Promise<SwitchResult> {
  const node = translatorNode(lab, router);
  const pages = node.translator!.pages;
  const named = pages.find((p) => p.name === target);
  const lan = named?.lan ?? (target.includes('/') ? target : `${target}/32`);
  if (!parseCidr(lan) || (!target.includes('/') && !named && parseAddr(target) === undefined)) {
    throw new LabError(`"${target}" is neither a page of ${router} (${pages.map((p) => p.name ?? p.lan).join(', ')}) nor an address or prefix`);
  }
  if (to !== 'pass' && parseCidr(to)?.len !== parseCidr(lan)!.len) {
    throw new LabError(`--to ${to}: expected "pass" or a WAN prefix of the same size as ${lan} (/${parseCidr(lan)!.len})`);
  }
  const page: PageSpec = { lan, ...(to === 'pass' ? {} : { wan: to }), mapping: pages.find((p) => p.lan === lan)?.mapping ?? { kind: 'contiguous' } };
  const rule = ruleLine(page).replace(/^page /, 'switch ');
  const t0 = performance.now();
  const res = await ask(agentSocket(lab, router), [rule]);
  return { router, rule, kernelUs: res.kernel_us as number, roundTripMs: performance.now() - t0 };
}
