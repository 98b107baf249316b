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
