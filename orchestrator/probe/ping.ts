// iputils `ping -n -R` output → each reply's round-trip time and the routes the replies
// recorded (IP option Record Route), for the scenario step `rtt`.

export interface PingOutput {
  /** Echo requests sent (ping's statistics line). */
  transmitted: number;
  /** Round-trip time of the first reply to each request, in order, ms. */
  rttMs: number[];
  /** Replies beyond the first to one request (ping's "DUP!"): not in rttMs. */
  duplicates: number;
  /** ICMP errors instead of replies ("From 10.3.0.1 icmp_seq=5 Destination Net Unreachable"). */
  errors: string[];
  /**
   * Every route the replies recorded, in order: ping prints one after the first reply and
   * again only when it changes. Each is what the option holds — the source's address, each
   * router's outgoing one, the destination's twice (in, out), the routers' on the way back —
   * cut off after 9 addresses, all the option has room for.
   */
  routes: string[][];
}

/** Addresses IP's Record Route option has room for (40 option bytes). */
export const RECORD_ROUTE_SLOTS = 9;

const REPLY = /^\d+ bytes from \S+: icmp_seq=(\d+) ttl=\d+ time=([\d.]+) ms/;
const ERROR = /^From (\S+) icmp_seq=\d+ (.+)$/;
const RR_FIRST = /^RR:\s+(\S+)\s*$/;
const RR_NEXT = /^\t(\S+)\s*$/;
const STATS = /^(\d+) packets transmitted, (\d+) received/;

export function parsePing(stdout: string): PingOutput {
  const out: PingOutput = { transmitted: 0, rttMs: [], duplicates: 0, errors: [], routes: [] };
  const answered = new Set<number>();
  let route: string[] | null = null;
  for (const line of stdout.split('\n')) {
    if (route) {
      const next = RR_NEXT.exec(line);
      if (next) {
        route.push(next[1]!);
        continue;
      }
      out.routes.push(route);
      route = null;
    }
    const first = RR_FIRST.exec(line);
    if (first) {
      route = [first[1]!];
      continue;
    }
    const reply = REPLY.exec(line);
    if (reply) {
      const seq = Number(reply[1]);
      if (answered.has(seq)) out.duplicates++;
      else out.rttMs.push(Number(reply[2]));
      answered.add(seq);
      continue;
    }
    const error = ERROR.exec(line);
    if (error) {
      const text = `${error[2]} (from ${error[1]})`;
      if (!out.errors.includes(text)) out.errors.push(text);
      continue;
    }
    const stats = STATS.exec(line);
    if (stats) out.transmitted = Number(stats[1]);
  }
  if (route) out.routes.push(route);
  return out;
}

/** The recorded route split where it turned: the destination records its address on the way
 *  in and out, so the first address repeated at once is the turn. Without one (a path longer
 *  than the option holds) the way out is all there is, and its length unknown. */
export function splitRoute(route: readonly string[]): { out: string[]; back: string[]; routers: number | null } {
  // from 1: the source's own address comes first, and pinging itself repeats it at 0
  for (let i = 1; i + 1 < route.length; i++) {
    if (route[i] === route[i + 1]) return { out: route.slice(0, i + 1), back: route.slice(i + 1), routers: i - 1 };
  }
  return { out: [...route], back: [], routers: null };
}
