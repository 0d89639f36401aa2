// Pure parts of the server: environment parsing, UDP search replies, beacon schedule and addresses,
// TCP reassembly with oversize skipping, PV declarations (no sockets).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { NetworkInterfaceInfo } from 'node:os';
import { Command, DBE, DBR, ECA } from '../../src/protocol/constants.js';
import { encodeMessage } from '../../src/protocol/header.js';
import {
  beaconPort,
  beaconPeriod,
  interfaceList,
  parseHostPortList,
  serverPort,
} from '../../src/server/env.js';
import { searchReplies } from '../../src/server/udp-responder.js';
import {
  beaconAddresses,
  beaconDelays,
  beaconMessage,
  broadcastAddressOf,
} from '../../src/server/beacons.js';
import { FrameReader, MisalignedError, isOversize } from '../../src/server/frame-reader.js';
import { CaStatusError, PvDefinitionError, PvProvider } from '../../src/server/index.js';

const m = (cmd: number, dt = 0, cnt = 0, p1 = 0, p2 = 0, payload?: Buffer): Buffer =>
  encodeMessage({ command: cmd, dataType: dt, dataCount: cnt, parameter1: p1, parameter2: p2 }, payload);

describe('server environment', () => {
  it('chooses ports as RSRV does', () => {
    assert.equal(serverPort({}), 5064);
    assert.equal(serverPort({ EPICS_CA_SERVER_PORT: '6000' }), 6000);
    assert.equal(serverPort({ EPICS_CA_SERVER_PORT: '6000', EPICS_CAS_SERVER_PORT: '7000' }), 7000);
    assert.equal(serverPort({ EPICS_CAS_SERVER_PORT: 'junk', EPICS_CA_SERVER_PORT: '6000' }), 6000);
    assert.equal(beaconPort({}), 5065);
    assert.equal(beaconPort({ EPICS_CA_REPEATER_PORT: '6001' }), 6001);
    assert.equal(beaconPort({ EPICS_CA_REPEATER_PORT: '6001', EPICS_CAS_BEACON_PORT: '6002' }), 6002);
    assert.equal(beaconPeriod({}), 15);
    assert.equal(beaconPeriod({ EPICS_CA_BEACON_PERIOD: '2.5' }), 2.5);
    assert.equal(beaconPeriod({ EPICS_CA_BEACON_PERIOD: '2.5', EPICS_CAS_BEACON_PERIOD: '1' }), 1);
    assert.equal(beaconPeriod({ EPICS_CAS_BEACON_PERIOD: '-1' }), 15);
  });
  it('parses interface and address lists', () => {
    assert.deepEqual(interfaceList({}), ['0.0.0.0']);
    assert.deepEqual(interfaceList({ EPICS_CAS_INTF_ADDR_LIST: '127.0.0.1 10.0.0.1' }), [
      '127.0.0.1',
      '10.0.0.1',
    ]);
    assert.deepEqual(interfaceList({ EPICS_CAS_INTF_ADDR_LIST: '127.0.0.1 0.0.0.0' }), ['0.0.0.0']);
    assert.deepEqual(parseHostPortList(['1.2.3.4', 'h:99', 'bad:port'], 5065), [
      { host: '1.2.3.4', port: 5065 },
      { host: 'h', port: 99 },
    ]);
  });
});

describe('UDP search replies', () => {
  const has = (n: string): boolean => n === 'A:b' || n === 'C:d';
  const search = (name: string, cid: number, minor = 13, reply = 5): Buffer =>
    m(Command.SEARCH, reply, minor, cid, cid, Buffer.from(name + '\0'));
  it('echoes the sequence number and answers each existing name', () => {
    const r = searchReplies(
      Buffer.concat([m(Command.VERSION, 1, 13, 99), search('A:b', 1), search('X', 2), search('C:d', 3)]),
      has,
      1234,
    );
    assert.equal(r.length, 1);
    assert.deepEqual(
      r[0],
      Buffer.concat([
        m(Command.VERSION, 1, 13, 99),
        m(Command.SEARCH, 1234, 0, 0xffffffff, 1, Buffer.from([0, 13])),
        m(Command.SEARCH, 1234, 0, 0xffffffff, 3, Buffer.from([0, 13])),
      ]),
    );
  });
  it('omits the VERSION for clients below minor 11, ignores minor < 4', () => {
    const r = searchReplies(search('A:b', 1, 10), has, 1);
    assert.equal(r[0].length, 24);
    assert.deepEqual(searchReplies(search('A:b', 1, 3), has, 1), []);
  });
  it('answers a one-character name and ignores an empty one (RSRV)', () => {
    const one = (n: string): boolean => n === 'A' || n === '';
    const r = searchReplies(Buffer.concat([search('A', 7, 10), search('', 8, 10)]), one, 1);
    assert.equal(r.length, 1);
    assert.deepEqual(r[0], m(Command.SEARCH, 1, 0, 0xffffffff, 7, Buffer.from([0, 13])));
  });
  it('never answers NOT_FOUND over UDP', () => {
    assert.deepEqual(
      searchReplies(Buffer.concat([m(Command.VERSION, 1, 13), search('Q:q', 1, 13, 10)]), has, 1),
      [],
    );
  });
  it('stops at an unexpected command', () => {
    const r = searchReplies(
      Buffer.concat([m(Command.VERSION, 1, 13), m(Command.ECHO), search('A:b', 1)]),
      has,
      1,
    );
    assert.deepEqual(r, []);
  });
});

describe('beacons', () => {
  it('doubles the interval from 0.02 s up to the period', () => {
    assert.deepEqual(
      beaconDelays(15, 12),
      [0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 15, 15],
    );
  });
  it('encodes RSRV_IS_UP', () => {
    assert.deepEqual(beaconMessage(25064, 7), m(Command.RSRV_IS_UP, 13, 25064, 7, 0));
  });
  it('chooses destinations', () => {
    const lo: NetworkInterfaceInfo = {
      address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '', internal: true, cidr: '127.0.0.1/8',
    }; // prettier-ignore
    const eth: NetworkInterfaceInfo = {
      address: '10.1.2.3', netmask: '255.255.0.0', family: 'IPv4', mac: '', internal: false, cidr: '10.1.2.3/16',
    }; // prettier-ignore
    const ifs = { lo: [lo], eth0: [eth] };
    assert.deepEqual(beaconAddresses({}, ['0.0.0.0'], ifs), [{ host: '10.1.255.255', port: 5065 }]);
    assert.equal(broadcastAddressOf('10.1.2.3', ifs), '10.1.255.255');
    assert.equal(broadcastAddressOf('127.0.0.1', ifs), '127.0.0.1');
    assert.equal(broadcastAddressOf('10.9.9.9', ifs), undefined);
    assert.deepEqual(beaconAddresses({}, ['127.0.0.1'], ifs), [{ host: '127.0.0.1', port: 5065 }]);
    assert.deepEqual(beaconAddresses({}, ['0.0.0.0'], { lo: [lo] }), [{ host: '127.0.0.1', port: 5065 }]);
    assert.deepEqual(
      beaconAddresses(
        {
          EPICS_CAS_BEACON_ADDR_LIST: '1.2.3.4:999',
          EPICS_CAS_AUTO_BEACON_ADDR_LIST: 'NO',
          EPICS_CAS_BEACON_PORT: '7',
        },
        ['0.0.0.0'],
        ifs,
      ),
      [{ host: '1.2.3.4', port: 999 }],
    );
  });
});

describe('FrameReader', () => {
  it('reassembles split messages and skips oversize ones', () => {
    const r = new FrameReader(64);
    const a = m(Command.ECHO);
    const big = m(Command.WRITE, 6, 20, 1, 2, Buffer.alloc(160, 7));
    const b = m(Command.READ_SYNC, 0, 0, 5, 6);
    const all = Buffer.concat([a, big, b]);
    const got: string[] = [];
    for (let i = 0; i < all.length; i += 7) {
      r.push(all.subarray(i, i + 7));
      for (let x = r.next(); x; x = r.next())
        got.push(isOversize(x) ? `oversize ${x.command}` : `${x.command}`);
    }
    assert.deepEqual(got, ['23', 'oversize 4', '10']);
  });
  it('throws MisalignedError with the header', () => {
    const r = new FrameReader(1024);
    const bad = Buffer.alloc(16);
    bad.writeUInt16BE(1, 0);
    bad.writeUInt16BE(3, 2);
    r.push(bad);
    assert.throws(
      () => r.next(),
      (e: unknown) => e instanceof MisalignedError && e.header.payloadSize === 3,
    );
  });
});

describe('PV declarations', () => {
  it('rejects bad declarations with clear errors', () => {
    const p = new PvProvider();
    assert.throws(() => p.add('X:a', { type: 'quad' as 'double' }), PvDefinitionError);
    assert.throws(() => p.add('X:b', { type: 'double', count: 0 }), PvDefinitionError);
    assert.throws(() => p.add('X:c', { type: 'enum', enumStrs: new Array(17).fill('s') }), PvDefinitionError);
    assert.throws(() => p.add('X', { type: 'double' }), PvDefinitionError);
    assert.throws(() => p.add('X:d', { type: 'long', value: 'abc' }), PvDefinitionError);
    p.add('X:e', { type: 'double' });
    assert.throws(() => p.add('X:e', { type: 'double' }), PvDefinitionError);
  });
  it('converts values, posts events, and runs onPut', async () => {
    const p = new PvProvider({
      'X:s': { type: 'short', value: '12' },
      'X:e': { type: 'enum', enumStrs: ['Off', 'On'], value: 'On' },
      'X:c': { type: 'char', count: 16, value: 'hi' },
      'X:w': { type: 'float', count: 3, value: [1, 2, 3, 4] },
      'X:p': { type: 'long', onPut: (v) => (v === 3 ? false : undefined) },
    });
    assert.equal(p.get('X:s')?.value, 12);
    assert.equal(p.get('X:e')?.value, 1);
    assert.deepEqual([...(p.get('X:c')?.raw as Uint8Array)], [104, 105, 0]);
    assert.deepEqual([...(p.get('X:w')?.raw as Float32Array)], [1, 2, 3]);
    const pv = p.get('X:s');
    assert.ok(pv);
    const fired: number[] = [];
    const un = pv.subscribe((mask) => fired.push(mask));
    pv.post(5);
    pv.post(6, { severity: 2, status: 3 });
    pv.setAlarm(2, 3);
    pv.setMetadata({ units: 'mm' });
    un();
    pv.post(7);
    assert.deepEqual(fired, [DBE.VALUE | DBE.LOG, DBE.VALUE | DBE.LOG | DBE.ALARM, DBE.PROPERTY]);
    assert.equal(pv.snapshot().units, 'mm');
    const put = p.get('X:p');
    assert.ok(put);
    const client = { user: 'u', host: 'h', address: '127.0.0.1' };
    await put.write(Float64Array.of(2.9), DBR.DOUBLE, client);
    assert.equal(put.value, 2);
    await put.write(['3'], DBR.STRING, client);
    assert.equal(put.value, 2, 'onPut returning false keeps the value');
    await assert.rejects(
      put.write(['zz'], DBR.STRING, client),
      (e: unknown) => e instanceof CaStatusError && e.eca === ECA.PUTFAIL,
    );
  });
});
