"""warplab's Mininet helper: builds a lab with Mininet's Python API inside a private sandbox
and answers requests as JSON lines on stdin/stdout.

Started by orchestrator/substrate/mininet/helper-client.ts as

  unshare --net --pid --fork --kill-child --mount --mount-proc --propagation private \
      /usr/bin/python3 helper.py 3<HOST-/proc-DIRECTORY

so it is PID 1 of its own PID namespace, in its own network and mount namespaces: nothing
it does reaches the host, and when it exits or is killed (kill -9 of the sandbox's init)
the kernel removes every node, link, bridge and OVS daemon with it. fd 3 is the host's
/proc, opened before the sandbox was made: through it the helper learns the host PIDs of
its nodes, which the orchestrator enters with `nsenter --net=/proc/HOSTPID/ns/net`.

Never calls Mininet's host-wide tuning (fixLimits) or cleanup (`mn -c`).

Protocol (one JSON object per line; every request has an "id", echoed in its reply):
  -> {"id":1,"op":"build","switch":"lxbr"|"ovs","mark":M,"nodes":[...],"links":[...]}
  <- {"id":1,"ok":true,"sandbox":HOSTPID,"nodes":{"r1":{"pid":P,"hostPid":H},...}}
  -> {"id":2,"op":"cmd","node":"r1","argv":[...],"input":"...","env":{},"timeoutMs":N}
  <- {"id":2,"ok":true,"exitCode":0,"stdout":"...","stderr":"..."}
  -> {"id":3,"op":"popen","node":"r1","argv":[...],"env":{},"log":"/path"}
  <- {"id":3,"ok":true,"pid":P,"hostPid":H}
  -> {"id":4,"op":"poll","pid":P}        <- {"id":4,"ok":true,"running":false,"exitCode":0}
  -> {"id":5,"op":"stop","pid":P,"signal":"TERM","timeoutMs":2000}
  <- {"id":5,"ok":true,"exitCode":-15}
  -> {"id":6,"op":"info"}                <- {"id":6,"ok":true,"sandbox":H,"nodes":{...}}
  -> {"id":7,"op":"detach"}              <- {"id":7,"ok":true}   (survive EOF on stdin)
  -> {"id":8,"op":"stop"}                <- {"id":8,"ok":true}   (then the sandbox ends)
  <- {"event":"ready","hostPid":H,"mininet":"2.3.0"}             (once, at start)
  <- {"event":"progress","stage":"nodes","done":3,"total":12}
  <- {"id":N,"ok":false,"error":"..."}                           (any failed request)
Until "detach", EOF on stdin ends the sandbox: an orchestrator killed while building
leaves nothing behind.
"""
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time

HOST_PROC = 3
OVS_DIR = '/var/lib/openvswitch'  # a private tmpfs inside the sandbox's mount namespace
CONFIG_CONCURRENCY = 8

out_lock = threading.Lock()
detached = threading.Event()
spawn_lock = threading.Lock()  # spawning and orphan reaping never interleave
known = set()  # PIDs of our own subprocess.Popen children (reaped by their Popen)
net = None
nodes = {}  # name -> Mininet node (lan names -> their switch)
lans = set()
procs = {}  # pid -> Popen started by "popen"


def send(obj):
    line = json.dumps(obj, separators=(',', ':')) + '\n'
    with out_lock:
        try:
            sys.stdout.write(line)
            sys.stdout.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass  # the orchestrator has gone (after detach); nothing to tell


def die(code=0):
    # PID 1 leaving ends the PID namespace: the kernel kills every process of the sandbox
    # and removes its network namespaces, links, bridges and mounts.
    os._exit(code)


def host_read(path):
    fd = os.open(path, os.O_RDONLY, dir_fd=HOST_PROC)
    try:
        return os.read(fd, 65536).decode()
    finally:
        os.close(fd)


def my_host_pid():
    return int(os.readlink('self', dir_fd=HOST_PROC))


def host_pids(wanted):
    """Maps sandbox PIDs to host PIDs. Only processes in our own PID namespace count: NSpid's
    last entry alone would also match a host process whose PID equals a sandbox PID."""
    wanted = set(wanted)
    found = {}
    mine = os.readlink('/proc/self/ns/pid')
    dfd = os.open('.', os.O_RDONLY | os.O_DIRECTORY, dir_fd=HOST_PROC)
    try:
        entries = [d for d in os.listdir(dfd) if d.isdigit()]
    finally:
        os.close(dfd)
    for d in entries:
        try:
            if os.readlink('%s/ns/pid' % d, dir_fd=HOST_PROC) != mine:
                continue
            status = host_read('%s/status' % d)
        except OSError:
            continue  # exited meanwhile, or not ours to read
        pids = [int(p) for line in status.splitlines() if line.startswith('NSpid:') for p in line.split()[1:]]
        if pids and pids[-1] in wanted:
            found[pids[-1]] = pids[0]
    missing = wanted - set(found)
    if missing:
        raise RuntimeError('cannot find the host PIDs of sandbox processes %s' % sorted(missing))
    return found


def popen(argv, **kw):
    with spawn_lock:
        p = subprocess.Popen(argv, **kw)
        known.add(p.pid)
    return p


def forget(p):
    with spawn_lock:
        known.discard(p.pid)


def reap_orphans():
    """PID 1 inherits orphans; reap those that are not our own Popen children."""
    with spawn_lock:
        for d in os.listdir('/proc'):
            if not d.isdigit() or int(d) in known or d == '1':
                continue
            try:
                with open('/proc/%s/stat' % d) as f:
                    fields = f.read().rsplit(')', 1)[1].split()
            except OSError:
                continue
            if fields[0] == 'Z' and fields[1] == '1':
                try:
                    os.waitpid(int(d), os.WNOHANG)
                except ChildProcessError:
                    pass


def in_node(node, argv):
    """argv run in a node's network (and the sandbox's mount) namespace."""
    if node in lans or node is None:
        return list(argv)  # switches live in the sandbox's own network namespace
    return ['mnexec', '-a', str(nodes[node].pid)] + list(argv)


def run(argv, input_text=None, env=None, timeout=None):
    full_env = dict(os.environ, **(env or {}))
    p = popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env)
    try:
        out, err = p.communicate(input=(input_text or '').encode(), timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        err += b'\n(timed out after %d ms)' % int(timeout * 1000)
    finally:
        forget(p)
    return p.returncode, out.decode(errors='replace'), err.decode(errors='replace')


# --- build -------------------------------------------------------------------------------

def start_ovs():
    """ovsdb-server and ovs-vswitchd (userspace datapath only: no kernel module needed),
    private to the sandbox: their database, sockets and logs live on a tmpfs mounted in the
    sandbox's mount namespace; ovs-vsctl finds them through OVS_RUNDIR."""
    rc, _, err = run(['mount', '-t', 'tmpfs', '-o', 'mode=0700', 'wl-ovs', OVS_DIR])
    if rc:
        raise RuntimeError('cannot mount a private tmpfs on %s: %s' % (OVS_DIR, err.strip()))
    for k, sub in (('OVS_RUNDIR', 'run'), ('OVS_DBDIR', 'db'), ('OVS_LOGDIR', 'log'), ('OVS_SYSCONFDIR', 'etc')):
        os.makedirs('%s/%s' % (OVS_DIR, sub), exist_ok=True)
        os.environ[k] = '%s/%s' % (OVS_DIR, sub)
    db = OVS_DIR + '/db/conf.db'
    steps = [
        ['ovsdb-tool', 'create', db, '/usr/share/openvswitch/vswitch.ovsschema'],
        ['ovsdb-server', db, '--remote=punix:%s/run/db.sock' % OVS_DIR, '--pidfile', '--detach', '--no-chdir',
         '--log-file=%s/log/ovsdb-server.log' % OVS_DIR],
        ['ovs-vsctl', '--no-wait', 'init'],
        ['ovs-vswitchd', 'unix:%s/run/db.sock' % OVS_DIR, '--pidfile', '--detach', '--no-chdir',
         '--log-file=%s/log/ovs-vswitchd.log' % OVS_DIR],
    ]
    for argv in steps:
        rc, out, err = run(argv, timeout=30)
        if rc:
            raise RuntimeError('%s failed (exit %d): %s' % (argv[0], rc, (err or out).strip()))


def build(req):
    global net
    from mininet.net import Mininet
    from mininet.node import Node, OVSSwitch
    from mininet.nodelib import LinuxBridge

    class Lxbr(LinuxBridge):
        """Mininet's Linux bridge, made with iproute2, every port enslaved (port names need
        not contain the bridge's name)."""

        def start(self, _controllers):
            # `name`/`dev` keywords: a lan called "l" must not read as `ip link add link ...`
            out = self.cmd('ip link add name', self, 'type bridge')
            for i in self.intfList():
                if i.name != 'lo':
                    out += self.cmd('ip link set dev', i, 'master', self)
            out += self.cmd('ip link set dev', self, 'up')
            if out.strip():
                raise RuntimeError('bridge %s: %s' % (self, out.strip()))

        def stop(self, deleteIntfs=True):
            self.cmd('ip link del dev', self)
            Node.stop(self, deleteIntfs)

    switch = req.get('switch', 'lxbr')
    spec_nodes = req['nodes']
    total = len(spec_nodes)
    net = Mininet(topo=None, build=False, controller=None, autoSetMacs=False, autoStaticArp=False)
    if switch == 'ovs' and any(n['kind'] == 'lan' for n in spec_nodes):
        start_ovs()
        OVSSwitch.setup()  # checks `ovs-vsctl show` against our daemons, reads their version
        OVSSwitch.isSetup = True
    for k, n in enumerate(spec_nodes):
        if n['kind'] == 'lan':
            lans.add(n['name'])
            if switch == 'ovs':
                sw = net.addSwitch(n['name'], cls=OVSSwitch, datapath='user', failMode='standalone',
                                   dpid='%016x' % (k + 1), inband=False)
            else:
                sw = net.addSwitch(n['name'], cls=Lxbr, dpid='%016x' % (k + 1))
            nodes[n['name']] = sw
        else:
            # A router is a node with forwarding on (set by its config script below).
            nodes[n['name']] = net.addHost(n['name'], cls=Node, ip=None)
        send({'event': 'progress', 'stage': 'nodes', 'done': k + 1, 'total': total})
    links = req['links']
    for k, l in enumerate(links):
        # up=None: Mininet's Intf.config skips its `ifconfig up` per end; the node's own
        # configuration below brings every interface up in one `ip -batch`.
        net.addLink(nodes[l['a']['node']], nodes[l['b']['node']],
                    intfName1=l['a']['ifname'], intfName2=l['b']['ifname'], params1={'up': None}, params2={'up': None})
        send({'event': 'progress', 'stage': 'links', 'done': k + 1, 'total': len(links)})
    # Not net.build(): its configHosts() would only run `ifconfig lo up` in each node, one
    # shell round trip apiece, which the configuration scripts below do anyway.
    net.built = True
    for sw in net.switches:
        sw.start([])

    # Each node's addresses, routes, sysctls and marks: one script per node, a few at a time.
    def configure(n):
        p = popen(in_node(n['name'], ['sh', '-ec', n['script']]), stdin=subprocess.PIPE,
                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            _, err = p.communicate(n.get('batch', '').encode())
        finally:
            forget(p)
        if p.returncode != 0:
            return '%s: configuration failed (exit %d): %s' % (n['name'], p.returncode, err.decode(errors='replace').strip())
        return None

    failures = []
    done = [0]
    lock = threading.Lock()
    pending = list(spec_nodes)

    def worker():
        while True:
            with lock:
                if not pending:
                    return
                n = pending.pop(0)
            why = configure(n)
            with lock:
                if why:
                    failures.append(why)
                done[0] += 1
                send({'event': 'progress', 'stage': 'configure', 'done': done[0], 'total': total})

    workers = [threading.Thread(target=worker) for _ in range(min(CONFIG_CONCURRENCY, total))]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if failures:
        raise RuntimeError('deployment failed for %d node%s:\n  %s' % (len(failures), 's' if len(failures) > 1 else '', '\n  '.join(failures)))
    return info({})


def info(_req):
    if net is None:
        raise RuntimeError('no lab is built yet')
    me = my_host_pid()
    pids = {name: n.pid for name, n in nodes.items() if name not in lans}
    hp = host_pids(pids.values())
    out = {name: {'pid': pid, 'hostPid': hp[pid]} for name, pid in pids.items()}
    for name in lans:
        out[name] = {'pid': 1, 'hostPid': me}
    return {'sandbox': me, 'nodes': out}


# --- commands and processes in nodes -----------------------------------------------------

def check_node(name):
    if name not in nodes:
        raise RuntimeError('no node "%s"; nodes: %s' % (name, ', '.join(sorted(nodes))))


def cmd(req):
    check_node(req['node'])
    t = req.get('timeoutMs')
    rc, out, err = run(in_node(req['node'], req['argv']), req.get('input'), req.get('env'), t / 1000 if t else None)
    return {'exitCode': rc, 'stdout': out, 'stderr': err}


def start_process(req):
    check_node(req['node'])
    log = req.get('log')
    sink = open(log, 'ab') if log else subprocess.DEVNULL
    try:
        p = popen(in_node(req['node'], req['argv']), stdin=subprocess.DEVNULL, stdout=sink, stderr=sink,
                  env=dict(os.environ, **req.get('env', {})), start_new_session=True)
    finally:
        if log:
            sink.close()
    procs[p.pid] = p
    return {'pid': p.pid, 'hostPid': host_pids([p.pid])[p.pid]}


def proc_of(req):
    p = procs.get(req['pid'])
    if p is None:
        raise RuntimeError('no process %s was started through this helper' % req['pid'])
    return p


def poll(req):
    p = proc_of(req)
    rc = p.poll()
    return {'running': rc is None, 'exitCode': rc}


def stop_process(req):
    p = proc_of(req)
    if p.poll() is None:
        p.send_signal(getattr(signal, 'SIG' + req.get('signal', 'TERM')))
        try:
            p.wait((req.get('timeoutMs') or 2000) / 1000)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    forget(p)
    del procs[p.pid]
    return {'exitCode': p.returncode}


HANDLERS = {'build': build, 'info': info, 'cmd': cmd, 'popen': start_process, 'poll': poll}
EXCLUSIVE = {'build'}  # run on the main thread (Mininet's own bookkeeping is not thread-safe)


def answer(req, fn):
    try:
        res = fn(req)
        send(dict(res, id=req.get('id'), ok=True))
    except Exception as e:  # every failure goes back to the orchestrator, as text
        send({'id': req.get('id'), 'ok': False, 'error': '%s: %s' % (type(e).__name__, e)})


def reader(requests):
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
        except ValueError:
            send({'ok': False, 'error': 'not JSON: %s' % line[:200]})
            continue
        op = req.get('op')
        if op == 'detach':
            detached.set()
            send({'id': req.get('id'), 'ok': True})
        elif op == 'stop' and 'pid' not in req:
            send({'id': req.get('id'), 'ok': True})
            die(0)
        elif op == 'stop':
            threading.Thread(target=answer, args=(req, stop_process), daemon=True).start()
        elif op in EXCLUSIVE:
            requests.put(req)
        elif op in HANDLERS:
            threading.Thread(target=answer, args=(req, HANDLERS[op]), daemon=True).start()
        else:
            send({'id': req.get('id'), 'ok': False, 'error': 'unknown op %r; ops: %s' % (op, ', '.join(sorted(list(HANDLERS) + ['detach', 'stop'])))})
    # stdin closed: the orchestrator is gone. Before detach that means it died mid-build.
    if not detached.is_set():
        die(0)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)


def main():
    if os.getpid() != 1:
        sys.exit('helper.py: run it as PID 1 of a private sandbox: unshare --net --pid --fork --kill-child '
                 '--mount --mount-proc --propagation private /usr/bin/python3 helper.py 3</proc')
    try:
        os.fstat(HOST_PROC)
    except OSError:
        sys.exit('helper.py: fd 3 must be the host\'s /proc directory')
    # PID 1 gets only the signals it handles: SIGTERM from the host ends the sandbox.
    signal.signal(signal.SIGTERM, lambda *_: die(0))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The sandbox's own network namespace holds the switches: no IPv6 chatter on them.
    for k in ('all', 'default'):
        try:
            with open('/proc/sys/net/ipv6/conf/%s/disable_ipv6' % k, 'w') as f:
                f.write('1')
        except OSError:
            pass
    from mininet.log import setLogLevel
    from mininet.net import Mininet, VERSION
    # Mininet.__init__ calls Mininet.init(), whose fixLimits() raises host-wide sysctls
    # (fs.file-max, kernel.pty.max, ...): mark it done so it never runs.
    Mininet.inited = True
    setLogLevel('warning')  # Mininet logs to stderr; stdout carries only the protocol

    requests = queue.Queue()
    send({'event': 'ready', 'hostPid': my_host_pid(), 'mininet': VERSION})
    threading.Thread(target=reader, args=(requests,), daemon=True).start()
    while True:
        try:
            req = requests.get(timeout=2)
        except queue.Empty:
            reap_orphans()
            continue
        answer(req, HANDLERS[req['op']])

if __name__ == '__main__':
    main()
