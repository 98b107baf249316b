// Network paging (ICN 2011 §III): a page maps a LAN prefix onto a WAN prefix of the same
// size; the host part is carried over by a bijection on the page. Every mapping compiles to
// a short list of steps that the agent's data plane applies as is (forward, and inverse).

export type Mapping =
  | { kind: 'contiguous' }
  /** a' = k·a + c (mod page size): k must be odd to be invertible on a power-of-two page. */
  | { kind: 'striped'; k: number; c: number }
  /** A seeded, reversible permutation of the host bits (anti-scanning). */
  | { kind: 'randomized'; seed: number };

/** h → h·mul + add; h → h ^ (h >> s); and the inverse of the latter. All mod 2^bits. */
export type Step = { op: 'affine'; mul: number; add: number } | { op: 'xorshift'; s: number } | { op: 'xorshift-inv'; s: number };

export function modMask(bits: number): number {
  return bits >= 32 ? 0xffffffff : (2 ** bits - 1) >>> 0;
}

/** (a·b) mod 2^bits without losing precision past 2^53. */
function mulMod(a: number, b: number, bits: number): number {
  return Number((BigInt(a >>> 0) * BigInt(b >>> 0)) & BigInt(modMask(bits))) >>> 0;
}

/** Multiplicative inverse of an odd k modulo 2^bits (Newton iteration). */
export function inverseOdd(k: number, bits: number): number {
  let x = k >>> 0;
  for (let i = 0; i < 6; i++) x = mulMod(x, (2 - mulMod(k, x, 32)) >>> 0, 32);
  return (x & modMask(bits)) >>> 0;
}

/** Deterministic rounds from a seed (xorshift32), so a seed means the same permutation everywhere. */
function roundsFor(seed: number, bits: number): { m: number; a: number; s: number }[] {
  let st = seed >>> 0 || 0x9e3779b9;
  const next = () => {
    st = (st ^ (st << 13)) >>> 0;
    st = (st ^ (st >>> 17)) >>> 0;
    st = (st ^ (st << 5)) >>> 0;
    return st;
  };
  const mm = modMask(bits);
  return [0, 1, 2].map(() => ({ m: (next() | 1) & mm, a: next() & mm, s: Math.max(1, Math.ceil(bits / 2)) }));
}

function affineInverse(mul: number, add: number, bits: number): Step {
  const inv = inverseOdd(mul, bits);
  return { op: 'affine', mul: inv, add: mulMod(inv, (modMask(bits) - add + 1) & modMask(bits), bits) };
}

export function stepsOf(m: Mapping, bits: number): { forward: Step[]; inverse: Step[] } {
  if (bits === 0 || m.kind === 'contiguous') return { forward: [], inverse: [] };
  if (m.kind === 'striped') {
    const mm = modMask(bits);
    return { forward: [{ op: 'affine', mul: m.k & mm, add: m.c & mm }], inverse: [affineInverse(m.k & mm, m.c & mm, bits)] };
  }
  const rounds = roundsFor(m.seed, bits);
  return {
    forward: rounds.flatMap((r): Step[] => [{ op: 'affine', mul: r.m, add: r.a }, { op: 'xorshift', s: r.s }]),
    inverse: [...rounds].reverse().flatMap((r): Step[] => [{ op: 'xorshift-inv', s: r.s }, affineInverse(r.m, r.a, bits)]),
  };
}

/** What the data plane computes; the unit tests hold the agent to the same arithmetic. */
export function applySteps(steps: Step[], h: number, bits: number): number {
  const mm = modMask(bits);
  let x = h & mm;
  for (const st of steps) {
    if (st.op === 'affine') x = (mulMod(x, st.mul, bits) + st.add) & mm;
    else if (st.op === 'xorshift') x = (x ^ (x >>> st.s)) & mm;
    else {
      const y = x;
      for (let sh = st.s; sh < bits; sh += st.s) x ^= y >>> sh;
      x &= mm;
    }
  }
  return x >>> 0;
}

export function formatSteps(steps: Step[]): string {
  return steps.map((s) => (s.op === 'affine' ? `affine:${s.mul}:${s.add}` : `${s.op}:${s.s}`)).join(' ');
}

/** Why a mapping is not a bijection on a page of `bits` host bits, or undefined. */
export function nonInvertible(m: Mapping, bits: number): string | undefined {
  if (m.kind === 'striped' && bits > 0 && m.k % 2 === 0) {
    return `stride k=${m.k} is even, so k·a + c (mod 2^${bits}) maps two addresses onto one`;
  }
  return undefined;
}
