// IPv4 arithmetic on 32-bit unsigned numbers; enough for prefixes, subnets and routes.

export interface Cidr {
  /** The address as written (host bits kept). */
  addr: number;
  len: number;
}

const QUAD = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The address, or what is wrong with `s` (for messages). */
export function readAddr(s: string): number | string {
  const m = QUAD.exec(s);
  if (!m) return 'an address is four numbers joined by dots';
  const parts = m.slice(1).map(Number);
  const big = parts.find((p) => p > 255);
  if (big !== undefined) return `${big} is more than 255`;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

/** The address with its prefix length, or what is wrong with `s` (for messages). */
export function readCidr(s: string): Cidr | string {
  const [a, l, extra] = s.split('/');
  if (l === undefined || extra !== undefined) return 'write one prefix length after the address, e.g. /24';
  const addr = readAddr(a!);
  if (typeof addr === 'string') return addr;
  if (!/^\d{1,2}$/.test(l) || Number(l) > 32) return `the prefix length /${l} is not a number from 0 to 32`;
  return { addr, len: Number(l) };
}

export function parseAddr(s: string): number | undefined {
  const a = readAddr(s);
  return typeof a === 'number' ? a : undefined;
}

export function parseCidr(s: string): Cidr | undefined {
  const c = readCidr(s);
  return typeof c === 'string' ? undefined : c;
}

export function formatAddr(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function mask(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

export function network(c: Cidr): number {
  return (c.addr & mask(c.len)) >>> 0;
}

export function broadcast(c: Cidr): number {
  return (network(c) | ~mask(c.len)) >>> 0;
}

/** "172.16.0.1/16" → "172.16.0.0/16". */
export function networkOf(c: Cidr): string {
  return `${formatAddr(network(c))}/${c.len}`;
}

export function contains(net: Cidr, addr: number): boolean {
  return ((addr & mask(net.len)) >>> 0) === network(net);
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  const len = Math.min(a.len, b.len);
  return ((a.addr ^ b.addr) & mask(len)) >>> 0 === 0;
}

/** Host bits set where a prefix (route target, lan subnet) should have none. */
export function hasHostBits(c: Cidr): boolean {
  return network(c) !== c.addr;
}
