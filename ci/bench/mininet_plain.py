"""Plain-Mininet side of the up/down benchmark: a topology built the way a Mininet user
writes it (addHost/addSwitch/addLink with the address as a link parameter, LinuxBridge for
segments, routes in each node), timed from the first addHost to the end of net.build()
plus switch start, and net.stop().

Run ONLY inside a private sandbox, which takes everything with it when it exits:
  unshare --net --pid --fork --kill-child --mount --mount-proc --propagation private \
      /usr/bin/python3 ci/bench/mininet_plain.py < spec.json
spec.json: {"repeat": R, "topologies": [T, ...]} where T is
  {"name": ..., "nodes": [{"name", "kind": "host"|"router"|"lan",
                           "interfaces": [{"name", "ipv4": [...], "mac"?}],
                           "routes": [{"to", "via"}]}],
   "links": [{"a": {"node", "iface"?}, "b": {...}}], "check": [FROM, ADDR]?}
(warplab's topology model, as orchestrator/bench/mininet-plain.ts writes it).
Prints one JSON line per topology: {"name", "up_ms": [...], "down_ms": [...], "reachable"}.
"""
import json
import os
import random
import sys
import time
from subprocess import PIPE

from mininet.log import setLogLevel
from mininet.net import Mininet
from mininet.node import Node
from mininet.nodelib import LinuxBridge

# Mininet.__init__ calls Mininet.init(), whose fixLimits() raises host-wide sysctls
# (fs.file-max, kernel.pty.max, ...): mark it done so it never runs.
Mininet.inited = True


class LabNode(Node):
    """A host, or a router (forwarding on): extra addresses and routes in one `ip -batch`,
    as hundreds of per-route cmd() round trips would measure Mininet's shell pipe rather
    than the kernel work warplab also does."""

    def config(self, forward=False, batch='', **params):
        result = super().config(**params)
        self.cmd('sysctl -qw net.ipv4.ip_forward=%d net.ipv4.ip_default_ttl=255' % (1 if forward else 0))
        if batch:
            p = self.popen(['ip', '-batch', '-'], stdin=PIPE)
            _, err = p.communicate(batch.encode())
            if p.returncode != 0:
                raise RuntimeError('%s: ip -batch failed: %s' % (self.name, err.decode().strip()))
        return result


def build(t):
    net = Mininet(topo=None, build=False, controller=None)
    nodes = {}
    for k, n in enumerate(t['nodes']):
        if n['kind'] == 'lan':
            nodes[n['name']] = net.addSwitch(n['name'], cls=LinuxBridge, dpid='%016x' % (k + 1))
            continue
        extra = ''.join('addr add %s dev %s\n' % (a, i['name']) for i in n['interfaces'] for a in i['ipv4'][1:])
        routes = ''.join('route add %s via %s\n' % (r['to'], r['via']) for r in n['routes'])
        nodes[n['name']] = net.addHost(n['name'], cls=LabNode, ip=None, forward=n['kind'] == 'router', batch=extra + routes)
    intf = {(n['name'], i['name']): i for n in t['nodes'] for i in n['interfaces']}
    for l in t['links']:
        ends = []
        for e in (l['a'], l['b']):
            i = intf.get((e['node'], e.get('iface')))
            ends.append((e.get('iface'), {'ip': i['ipv4'][0]} if i and i['ipv4'] else {}, i.get('mac') if i else None))
        macs = [end[2] for end in ends]
        if any(macs):  # Mininet sets both ends' MACs or neither: a random one for the other end
            macs = [m or '02:%02x:%02x:%02x:%02x:%02x' % tuple(random.randrange(256) for _ in range(5)) for m in macs]
        net.addLink(nodes[l['a']['node']], nodes[l['b']['node']],
                    intfName1=ends[0][0], intfName2=ends[1][0], params1=ends[0][1], params2=ends[1][1],
                    addr1=macs[0], addr2=macs[1])
    net.build()
    for sw in net.switches:
        sw.start([])
    return net


def measure(t, repeat):
    ups, downs, reachable = [], [], None
    for _ in range(repeat):
        t0 = time.monotonic()
        net = build(t)
        ups.append(round((time.monotonic() - t0) * 1000, 1))
        try:
            if t.get('check') and reachable is not False:
                src, addr = t['check']
                reachable = net[src].pexec('ping', '-c1', '-W2', addr)[2] == 0
        finally:
            t0 = time.monotonic()
            net.stop()
            downs.append(round((time.monotonic() - t0) * 1000, 1))
    return {'name': t['name'], 'up_ms': ups, 'down_ms': downs, 'reachable': reachable}


def main():
    # Python is PID 1 only inside the `unshare --pid --fork` sandbox: elsewhere the
    # links and shells would land in the host's namespaces.
    if os.getpid() != 1:
        sys.exit('mininet_plain.py: run it inside `unshare --net --pid --fork --kill-child '
                 '--mount --mount-proc --propagation private` (see the file header)')
    spec = json.load(sys.stdin)
    setLogLevel('warning')  # Mininet logs to stderr; stdout carries only the JSON lines
    for t in spec['topologies']:
        print(json.dumps(measure(t, spec.get('repeat', 1)), separators=(',', ':')), flush=True)


if __name__ == '__main__':
    main()
