"""Plain-Mininet side of the up/down benchmark: h1 -- r1 -- ... -- rN -- h2.

Run ONLY inside a private sandbox, which takes everything with it when it exits:
  unshare --net --pid --fork --kill-child --mount --mount-proc --propagation private \
      /usr/bin/python3 ci/bench/mininet_chain.py N [N...]
Prints one JSON line per N on stdout: {"n":N,"up_ms":...,"down_ms":...,"reachable":true}.

Addressing matches orchestrator/bench/chain.ts: link i (0 = h1-r1, N = rN-h2) is
10.(i/256).(i%256).0/24; the left end is .1 and the right end .2, except on link 0
where the router r1 is .1. Every router gets a static route to every subnet it is not
on, like warplab's `routing: auto`.
"""
import json
import os
import sys
import time
from subprocess import PIPE

from mininet.log import setLogLevel
from mininet.net import Mininet
from mininet.node import Node

# Mininet.__init__ calls Mininet.init(), whose fixLimits() raises host-wide sysctls
# (fs.file-max, kernel.pty.max, ...): mark it done so it never runs.
Mininet.inited = True


def subnet(i):
    return '10.%d.%d' % (i // 256, i % 256)


class ChainHost(Node):
    def config(self, **params):
        result = super().config(**params)
        # Replies cross up to 200+ routers: the default TTL of 64 would not reach.
        self.cmd('sysctl -qw net.ipv4.ip_default_ttl=255')
        return result


class Router(Node):
    def config(self, routes=(), **params):
        result = super().config(**params)
        self.cmd('sysctl -qw net.ipv4.ip_forward=1')
        if routes:
            # One `ip -batch` per router: hundreds of per-route cmd() round trips would
            # measure Mininet's shell pipe rather than the kernel work warplab also does.
            batch = self.popen(['ip', '-batch', '-'], stdin=PIPE)
            _, err = batch.communicate(''.join('route add %s.0/24 via %s\n' % r for r in routes).encode())
            if batch.returncode != 0:
                raise RuntimeError('%s: ip -batch failed: %s' % (self.name, err.decode().strip()))
        return result


def chain_routes(n, k):
    """Routes of router rk (1..n): subnets left of it via link k-1, right of it via link k."""
    left_gw = '%s.%d' % (subnet(k - 1), 2 if k == 1 else 1)
    right_gw = '%s.2' % subnet(k)
    return ([(subnet(i), left_gw) for i in range(k - 1)] +
            [(subnet(i), right_gw) for i in range(k + 1, n + 1)])


def build(n):
    net = Mininet(topo=None, build=False, controller=None)
    net.addHost('h1', cls=ChainHost, ip=None, defaultRoute='via %s.1' % subnet(0))
    for k in range(1, n + 1):
        net.addHost('r%d' % k, cls=Router, ip=None, routes=chain_routes(n, k))
    net.addHost('h2', cls=ChainHost, ip=None, defaultRoute='via %s.1' % subnet(n))

    net.addLink('h1', 'r1', port1=0, port2=0,
                params1={'ip': subnet(0) + '.2/24'}, params2={'ip': subnet(0) + '.1/24'})
    for i in range(1, n + 1):
        right = 'h2' if i == n else 'r%d' % (i + 1)
        net.addLink('r%d' % i, right, port1=1, port2=0,
                    params1={'ip': subnet(i) + '.1/24'}, params2={'ip': subnet(i) + '.2/24'})
    # build() runs each node's config(): addresses are set by the links, routes here.
    net.build()
    return net


def measure(n):
    t0 = time.monotonic()
    net = build(n)
    up_ms = (time.monotonic() - t0) * 1000
    try:
        reachable = net['h1'].pexec('ping', '-c1', '-W2', subnet(n) + '.2')[2] == 0
    finally:
        t0 = time.monotonic()
        net.stop()
        down_ms = (time.monotonic() - t0) * 1000
    return {'n': n, 'up_ms': round(up_ms, 1), 'down_ms': round(down_ms, 1), 'reachable': reachable}


def main():
    # Python is PID 1 only inside the `unshare --pid --fork` sandbox: elsewhere the
    # links and shells would land in the host's namespaces.
    if os.getpid() != 1:
        sys.exit('mininet_chain.py: run it inside `unshare --net --pid --fork --kill-child '
                 '--mount --mount-proc --propagation private` (see the file header)')
    ns = [int(a) for a in sys.argv[1:]]
    if not ns or any(n < 1 for n in ns):
        sys.exit('usage: mininet_chain.py N [N...]   (N >= 1 routers)')
    setLogLevel('warning')  # Mininet logs to stderr; stdout carries only the JSON lines
    for n in ns:
        print(json.dumps(measure(n), separators=(',', ':')), flush=True)


if __name__ == '__main__':
    main()
