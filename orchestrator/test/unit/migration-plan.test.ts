import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { clientTranslators, gatewaysAt, pagingPlan } from '../../migration/strategies/paging-plan.js';
import { getStrategy } from '../../migration/strategy.js';
import { packageRoot } from '../../paths.js';
import { loadTopologyFile, parseTopology } from '../../topology/load.js';
import { defaultMac } from '../../topology/workloads.js';
import { appEnv, appSettings } from '../../workload/app.js';
import { chooseAccel, kernelCmdline, parseQemuVersion, qemuArgv, tcgMigrationSafe, vmFiles } from '../../workload/vm.js';

const topo = (f: string) => loadTopologyFile(join(packageRoot, 'topologies', f));

describe('network paging plan (pure, from the topology)', () => {
  it('ICOIN: R3 is the client side; the VM is S\' at PDC and itself at ADC (no translator at R2)', async () => {
    const t = await topo('icoin2011-paging.yaml');
    const w = t.workloads[0]!;
    assert.deepEqual(clientTranslators(t), ['R3']);
    assert.deepEqual(pagingPlan(t, w, 'pdc-hv'), [{ router: 'R3', line: 'switch 172.16.10.2/32 wan 172.15.10.2/32 contiguous', wan: '172.15.10.2' }]);
    assert.deepEqual(pagingPlan(t, w, 'adc-hv'), [{ router: 'R3', line: 'switch 172.16.10.2/32 pass', wan: '172.16.10.2' }]);
    assert.deepEqual(gatewaysAt(t, w, 'adc-hv'), [{ router: 'R2', iface: 'eth1' }]);
  });

  it('three DCs (§V-E): each DC\'s own image of the address', async () => {
    const t = await topo('icoin2011-three-dc.yaml');
    const w = t.workloads[0]!;
    assert.deepEqual(clientTranslators(t), ['R3']);
    assert.deepEqual(['hv1', 'hv2', 'hv3'].map((hv) => pagingPlan(t, w, hv)[0]!.wan), ['172.15.10.2', '172.14.10.2', '172.13.10.2']);
  });

  it('a randomized page maps the address through its own mapping, and a host with no page is refused', () => {
    const t = parseTopology(`
name: rnd
nodes:
  dc: {kind: lan, subnet: 172.16.0.0/16}
  hv: {kind: hypervisor, interfaces: {eth0: {ipv4: 172.16.0.11/16}, eth1: {ipv4: 192.0.2.1/24}}}
  mg: {kind: lan, subnet: 192.0.2.0/24}
  r1:
    kind: edge-router
    translator: {lan: [eth1], pages: [{lan: 172.16.10.0/24, wan: 150.1.10.0/24, mapping: randomized, seed: 7}]}
    interfaces: {eth0: {ipv4: 10.0.0.1/30}, eth1: {ipv4: 172.16.0.1/16}}
  r3:
    kind: edge-router
    translator: {lan: [eth1], pages: [{lan: 0.0.0.0/0, pass: true}]}
    interfaces: {eth0: {ipv4: 10.0.0.2/30}, eth1: {ipv4: 10.3.0.1/24}}
  u: {kind: host, interfaces: {eth0: {ipv4: 10.3.0.10/24}}}
links: [hv:eth0 -- dc, r1:eth1 -- dc, hv:eth1 -- mg, r1:eth0 -- r3:eth0, r3:eth1 -- u:eth0]
workloads:
  vm: {kind: vm, on: hv, ipv4: 172.16.10.2/16}
  outside: {kind: vm, on: hv, ipv4: 172.16.20.3/16}
migration: {network: mg}
`);
    const [s] = pagingPlan(t, t.workloads[0]!, 'hv');
    assert.match(s!.line, /^switch 172\.16\.10\.2\/32 wan 150\.1\.\d+\.\d+\/32 contiguous$/);
    assert.notEqual(s!.wan, '150.1.10.2', 'randomized, not contiguous');
    assert.throws(() => pagingPlan(t, t.workloads[1]!, 'hv'), /the translator at r1 has no page for 172\.16\.20\.3: it would drop outside's traffic/);
  });
});

describe('VM command line', () => {
  it('accel auto picks KVM only with hardware virtualisation and /dev/kvm', () => {
    assert.equal(chooseAccel('auto', 'flags\t\t: fpu vme hypervisor', true), 'tcg', 'PVM-style /dev/kvm without vmx/svm');
    assert.equal(chooseAccel('auto', 'flags\t\t: fpu vmx ept', true), 'kvm');
    assert.equal(chooseAccel('auto', 'flags\t\t: fpu svm', false), 'tcg');
    assert.equal(chooseAccel('tcg', 'flags\t\t: vmx', true), 'tcg');
  });

  it('TCG live migration needs QEMU >= 9.0: older ones lose guest stores', () => {
    assert.deepEqual(parseQemuVersion('QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\nCopyright'), [7, 2]);
    assert.deepEqual(parseQemuVersion('QEMU emulator version 10.0.2 (Debian 1:10.0.2+ds-2+deb13u1~bpo12+1)'), [10, 0]);
    assert.equal(parseQemuVersion('bash: qemu-system-x86_64: command not found'), null);
    assert.equal(tcgMigrationSafe([7, 2]), false);
    assert.equal(tcgMigrationSafe([8, 2]), false);
    assert.equal(tcgMigrationSafe([9, 0]), true);
    assert.equal(tcgMigrationSafe([10, 0]), true);
  });

  it('source and destination differ only by -incoming; the guest gets its settings on the kernel command line', async () => {
    const w = (await topo('icoin2011-paging.yaml')).workloads[0]!;
    const files = vmFiles('/l/vm-a', 'pdc-hv');
    const guest = { kernel: '/h/files/vmlinux', initrd: '/h/files/initramfs.cpio.gz' };
    const src = qemuArgv(w, { accel: 'tcg', tap: 'wt0', files, guest });
    const dst = qemuArgv(w, { accel: 'tcg', tap: 'wt0', files, guest, incoming: 'tcp:192.0.2.12:4444' });
    assert.deepEqual(dst, [...src, '-incoming', 'tcp:192.0.2.12:4444']);
    assert.ok(src.includes(`virtio-net-pci,netdev=n0,mac=${w.mac}`));
    // The guest as placed on the hypervisor's machine, not this checkout's path.
    assert.equal(src[src.indexOf('-kernel') + 1], guest.kernel);
    assert.equal(src[src.indexOf('-initrd') + 1], guest.initrd);
    // The control channel: the socket is the hypervisor's own, the port's name what /init looks for.
    assert.ok(src.includes('socket,id=ctl,path=/l/vm-a/pdc-hv.ctl.sock,server=on,wait=off'));
    assert.ok(src.includes('virtserialport,chardev=ctl,name=warplab.ctl'));
    assert.ok(readFileSync(join(packageRoot, 'agents', 'vm-guest', 'init'), 'utf8').includes('= warplab.ctl'));
    assert.equal(w.mac, defaultMac('172.16.10.2/16'));
    assert.equal(w.mac, '52:54:00:10:0a:02');
    assert.equal(kernelCmdline(w), 'console=ttyS0 loglevel=5 panic=-1 warplab.ip=172.16.10.2/16 warplab.gw=172.16.0.1 warplab.peer=10.3.0.10 warplab.send-port=5001 warplab.echo-port=5000 warplab.reflect-port=5002 warplab.interval-us=10000');
  });

  it("the app's settings reach the guest's /init and the container's app.sh under the names they read", async () => {
    const w = (await topo('icoin2011-paging.yaml')).workloads[0]!;
    const env = appEnv(w);
    assert.deepEqual(env, ['WARPLAB_PEER=10.3.0.10', 'WARPLAB_SEND_PORT=5001', 'WARPLAB_ECHO_PORT=5000', 'WARPLAB_REFLECT_PORT=5002', 'WARPLAB_INTERVAL_US=10000']);
    const appSh = readFileSync(join(packageRoot, 'agents', 'container-image', 'app.sh'), 'utf8');
    for (const e of env) assert.ok(appSh.includes('${' + e.split('=')[0]!), `app.sh reads ${e.split('=')[0]}`);
    const init = readFileSync(join(packageRoot, 'agents', 'vm-guest', 'init'), 'utf8');
    for (const k of ['ip', 'gw', ...Object.keys(appSettings(w))]) assert.ok(init.includes(`warplab.${k}=*)`), `/init reads warplab.${k}`);
  });

  it('unknown strategies are refused with the list', () => {
    assert.throws(() => getStrategy('teleport'), /strategy "teleport" is not supported. Supported strategies are "network-paging"/);
  });
});
