// Figures published in the papers. They appear ONLY in columns labelled as references,
// never as warplab's results: warplab did not measure them.

export interface PaperReference {
  metric: 'switchingMs' | 'downtimeMs';
  source: string;
  mean: number;
  sd: number;
  how: string;
}

export const paperReferences: readonly PaperReference[] = [
  {
    metric: 'switchingMs',
    source: 'ICOIN 2011 (Kanada & Tarui)',
    mean: 80,
    sd: 70,
    how: 'RARP captured → first packet on the new path, paper figure',
  },
  {
    metric: 'downtimeMs',
    source: 'ICOIN 2011 (Kanada & Tarui)',
    mean: 790,
    sd: 260,
    how: 'largest gap of a 10 ms UDP stream, paper figure',
  },
];

/** What each strategy's paper says, for the comparison's reference column (text: not all are figures). */
export const strategyReferences: Readonly<Record<string, string>> = {
  'network-paging': 'ICOIN 2011: switching 80 ms (σ 70), largest gap 790 ms (σ 260), 10 ms UDP',
  'service-switching': 'Bifulco et al. 2011, Table I: ping RTT 2.573 ms not migrated, 3.192 ms migrated (edge not configured), 2.034 ms (edge configured)',
  'routing-update': 'ICOIN 2011 §I: waiting for routing takes "30 seconds or more"',
  'l2-overlay': 'ICOIN 2011 §II: a tunnel header and "far from optimal" paths (no figure)',
};
