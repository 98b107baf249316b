// The benchmark chain h1 — r1 — … — rN — h2 as a warplab topology (the plain-Mininet side
// of the benchmark builds the same topology from it). Link i (0 = h1–r1, N = rN–h2) is
// 10.(i/256).(i%256).0/24, the left end .1 and the right end .2, except on link 0 where r1
// is .1 (hosts use .1 as their gateway).

const subnet = (i: number) => `10.${Math.floor(i / 256)}.${i % 256}`;

/**
 * Topology YAML of a chain of `n` routers between two hosts, with auto routing. With
 * `machines` (SSH hosts), the chain is cut into that many contiguous runs, one per machine,
 * so that only the links between runs cross machines.
 */
export function chainTopologyYaml(n: number, name = `chain${n}`, machines: { name: string; address: string }[] = []): string {
  // 10.X.Y with X < 256 bounds the link count; names must fit warplab's patterns.
  if (!Number.isInteger(n) || n < 1 || n + 1 > 256 * 256) throw new RangeError(`chain length must be an integer in 1..65535, got ${n}`);
  if (!/^[a-z0-9][a-z0-9-]{0,15}$/.test(name)) throw new RangeError(`lab name "${name}" must match ^[a-z0-9][a-z0-9-]{0,15}$`);

  const iface = (addr: string) => `{ipv4: ${addr}/24}`;
  const lines = [`name: ${name}`, 'routing: auto'];
  if (machines.length) lines.push('placement: explicit', 'hosts:', ...machines.map((m) => `  ${m.name}: {address: ${m.address}}`));
  lines.push('nodes:');
  // Node i of the n + 2 (h1 first) goes to machine floor(i * machines / (n + 2)).
  const on = (i: number) => (machines.length ? `, host: ${machines[Math.floor((i * machines.length) / (n + 2))]!.name}` : '');
  lines.push(`  h1: {kind: host${on(0)}, interfaces: {eth0: ${iface(`${subnet(0)}.2`)}}}`);
  for (let k = 1; k <= n; k++) {
    const left = `${subnet(k - 1)}.${k === 1 ? 1 : 2}`;
    lines.push(`  r${k}: {kind: router${on(k)}, interfaces: {eth0: ${iface(left)}, eth1: ${iface(`${subnet(k)}.1`)}}}`);
  }
  lines.push(`  h2: {kind: host${on(n + 1)}, interfaces: {eth0: ${iface(`${subnet(n)}.2`)}}}`);

  lines.push('links:', '  - h1:eth0 -- r1:eth0');
  for (let k = 1; k <= n; k++) lines.push(`  - r${k}:eth1 -- ${k === n ? 'h2' : `r${k + 1}`}:eth0`);
  return lines.join('\n') + '\n';
}
