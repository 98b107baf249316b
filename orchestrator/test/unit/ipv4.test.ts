import { strict as assert } from 'node:assert';
import { broadcast, contains, formatAddr, hasHostBits, network, networkOf, overlaps, parseAddr, parseCidr, readCidr } from '../../topology/ipv4.js';

describe('ipv4', () => {
  it('parses and formats', () => {
    assert.equal(formatAddr(parseAddr('172.16.10.2')!), '172.16.10.2');
    assert.equal(parseAddr('256.0.0.1'), undefined);
    assert.equal(parseAddr('1.2.3'), undefined);
    assert.deepEqual(parseCidr('10.0.0.1/8'), { addr: parseAddr('10.0.0.1'), len: 8 });
    assert.equal(parseCidr('10.0.0.1/33'), undefined);
    assert.equal(parseCidr('10.0.0.1'), undefined);
  });
  it('says what is wrong with a malformed address, for messages', () => {
    assert.deepEqual(
      ['10.0.0.1/33', '10.0.0.1/-1', '1.2.3.4/abc', '300.1.1.1/24', '1.2.3/24', '10.0.0.1', '1.2.3.4/8/8'].map(readCidr),
      [
        'the prefix length /33 is not a number from 0 to 32',
        'the prefix length /-1 is not a number from 0 to 32',
        'the prefix length /abc is not a number from 0 to 32',
        '300 is more than 255',
        'an address is four numbers joined by dots',
        'write one prefix length after the address, e.g. /24',
        'write one prefix length after the address, e.g. /24',
      ],
    );
    assert.deepEqual(readCidr('10.0.0.1/32'), { addr: parseAddr('10.0.0.1'), len: 32 });
  });
  it('computes networks, broadcasts and containment', () => {
    const c = parseCidr('172.16.10.2/16')!;
    assert.equal(formatAddr(network(c)), '172.16.0.0');
    assert.equal(formatAddr(broadcast(c)), '172.16.255.255');
    assert.equal(networkOf(c), '172.16.0.0/16');
    assert.ok(contains(c, parseAddr('172.16.200.1')!));
    assert.ok(!contains(c, parseAddr('172.15.10.2')!));
    assert.ok(contains(parseCidr('0.0.0.0/0')!, parseAddr('1.2.3.4')!));
    assert.ok(hasHostBits(c));
    assert.ok(!hasHostBits(parseCidr('172.16.0.0/16')!));
  });
  it('detects overlap', () => {
    assert.ok(overlaps(parseCidr('172.16.0.0/15')!, parseCidr('172.17.11.32/16')!));
    assert.ok(!overlaps(parseCidr('172.16.0.0/16')!, parseCidr('172.17.0.0/16')!));
  });
});
