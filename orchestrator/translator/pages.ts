// Translator configuration in the topology: pages (by name or inline) per edge router,
// validated, and compiled to the rule lines the translator agent applies.
import { network, networkOf, overlaps, parseCidr, type Cidr } from '../topology/ipv4.js';
import { cidrField } from '../topology/checks.js';
import type { YamlPath } from '../topology/source.js';
import type { NodeSpec, PageSpec, Topology, TranslatorSpec } from '../topology/model.js';
import { formatSteps, nonInvertible, stepsOf, type Mapping } from './mapping.js';

type Raw = Record<string, any>;

export function pageFromRaw(raw: Raw, name?: string): PageSpec {
  const mapping: Mapping =
    raw.mapping === 'striped' ? { kind: 'striped', k: raw.k ?? 1, c: raw.c ?? 0 } : raw.mapping === 'randomized' ? { kind: 'randomized', seed: raw.seed ?? 0 } : { kind: 'contiguous' };
  return { ...(name ? { name } : {}), lan: raw.lan, ...(raw.wan && !raw.pass ? { wan: raw.wan } : {}), mapping, ...(raw.vn ? { vn: raw.vn } : {}) };
}

export function describePage(p: PageSpec): string {
  return p.name ?? `${p.lan} -> ${p.wan ?? 'pass'}`;
}

type Report = (path: YamlPath, message: string, hint?: string) => void;

/** The WAN side of a page: its WAN prefix, or its LAN prefix when it passes. */
function wanOf(p: PageSpec): Cidr | undefined {
  return parseCidr(p.wan ?? p.lan);
}

/** Checks one page; `at` is where it is written. */
export function checkPage(p: PageSpec, at: YamlPath, report: Report, rawPass: boolean): void {
  const lan = cidrField(p.lan, 'prefix', [...at, 'lan'], report);
  const wan = p.wan === undefined ? undefined : cidrField(p.wan, 'prefix', [...at, 'wan'], report);
  for (const [key, text, c] of [['lan', p.lan, lan], ['wan', p.wan, wan]] as const) {
    if (c && network(c) !== c.addr) report([...at, key], `page ${text} has host bits set`, `did you mean ${networkOf(c)}?`);
  }
  if (!p.wan && !rawPass) return report(at, `page ${p.lan} needs a wan prefix, or pass: true`, 'e.g. {lan: 172.16.0.0/16, wan: 150.24.0.0/16}');
  if (!lan) return;
  if (wan && lan.len < wan.len) report([...at, 'wan'], `page ${p.lan} (${2 ** (32 - lan.len)} addresses) is larger than its WAN range ${p.wan} (${2 ** (32 - wan.len)})`, `use a /${lan.len} WAN prefix`);
  if (wan && lan.len > wan.len) report([...at, 'wan'], `page ${p.lan} is smaller than its WAN range ${p.wan}; a page maps onto a range of its own size`, `use a /${lan.len} WAN prefix`);
  const why = nonInvertible(p.mapping, 32 - lan.len);
  if (why) report(at, `mapping is not invertible: ${why}`, 'use an odd stride k');
}

/** Across a router's pages and across virtual networks. */
export function checkPageSets(t: Topology, report: Report, pathOf: (node: string, i: number) => YamlPath): void {
  const all: { p: PageSpec; at: YamlPath; node: string }[] = [];
  for (const n of t.nodes) {
    const pages = n.translator?.pages ?? [];
    pages.forEach((p, i) => {
      const at = pathOf(n.name, i);
      const twin = pages.findIndex((q, j) => j < i && q.lan === p.lan);
      if (twin >= 0) report(at, `${n.name} has two pages for ${p.lan} (${describePage(pages[twin]!)} and ${describePage(p)})`, 'one page per LAN prefix; nested prefixes are fine (longest match wins)');
      all.push({ p, at, node: n.name });
    });
  }
  // WAN ranges of different virtual networks must not overlap, or the WAN cannot tell them apart.
  for (let i = 0; i < all.length; i++) {
    for (let j = 0; j < i; j++) {
      const a = all[i]!;
      const b = all[j]!;
      const wa = wanOf(a.p);
      const wb = wanOf(b.p);
      if (!wa || !wb || !a.p.vn || !b.p.vn || a.p.vn === b.p.vn || !overlaps(wa, wb)) continue;
      report(a.at, `WAN range ${a.p.wan ?? a.p.lan} of ${a.p.vn} overlaps ${b.p.wan ?? b.p.lan} of ${b.p.vn} (${b.node})`, 'give each virtual network its own WAN range');
    }
  }
}

/** A page as a rule line for the agent (see agents/translator). */
export function ruleLine(p: PageSpec): string {
  if (!p.wan) return `page ${p.lan} pass`;
  if (p.mapping.kind === 'contiguous') return `page ${p.lan} wan ${p.wan} contiguous`;
  const bits = 32 - parseCidr(p.lan)!.len;
  const s = stepsOf(p.mapping, bits);
  return `page ${p.lan} wan ${p.wan} steps ${formatSteps(s.forward)} / ${formatSteps(s.inverse)}`;
}

export function edgeTranslators(t: Topology): { node: NodeSpec; spec: TranslatorSpec }[] {
  return t.nodes.filter((n) => n.translator).map((n) => ({ node: n, spec: n.translator! }));
}
