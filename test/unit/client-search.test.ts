// Search scheduling (fake clock), reply parsing, beacon anomaly detection, environment parsing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BEACON_ANOMALY_TIMER,
  SearchScheduler,
  parseClientDatagram,
  searchTimerCount,
} from '../../src/client/search.js';
import type { SearchClock, SearchReply, UdpNotice } from '../../src/client/search.js';
import { BeaconTracker } from '../../src/client/beacons.js';
import { parseAddrList, parseYesNo, readClientEnv } from '../../src/client/env.js';
import { Command } from '../../src/protocol/constants.js';
import { decodeDatagram } from '../../src/protocol/header.js';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

class FakeClock implements SearchClock {
  t = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private id = 1;
  now(): number {
    return this.t;
  }
  setTimer(fn: () => void, d: number): unknown {
    const id = this.id++;
    this.timers.set(id, { at: this.t + d, fn });
    return id;
  }
  clearTimer(h: unknown): void {
    this.timers.delete(h as number);
  }
  /** Advance time, firing due timers in order. */
  advance(s: number): void {
    const end = this.t + s;
    for (;;) {
      let best: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= end + 1e-12 && (!best || e[1].at < best[1].at)) best = e;
      if (!best) break;
      this.timers.delete(best[0]);
      this.t = Math.max(this.t, best[1].at);
      best[1].fn();
    }
    this.t = end;
  }
}

function names(d: Buffer): string[] {
  return decodeDatagram(d)
    .filter((m) => m.command === Command.SEARCH)
    .map((m) => m.payload.subarray(0, m.payload.indexOf(0)).toString());
}

describe('search scheduler', () => {
  it('timer count follows the max search period', () => {
    assert.equal(searchTimerCount(300), 14);
    assert.equal(searchTimerCount(60), 11);
    assert.equal(searchTimerCount(1e9), 18);
  });

  it('an unanswered name is sent at 32, 64, 128 ... ms intervals (2^i × 32 ms)', () => {
    const clock = new FakeClock();
    const sent: number[] = [];
    const s = new SearchScheduler({ maxSearchPeriod: 300, clock, send: () => sent.push(clock.t) });
    s.add(1, 'X');
    clock.advance(10);
    // first send at 0.032, then timer 0 fires again at 0.064 moving it to timer 1 (armed for 0.064 later)...
    assert.ok(sent.length >= 6 && sent.length <= 10, `${sent.length} sends in 10 s`);
    assert.ok(Math.abs(sent[0]! - 0.032) < 1e-9);
    const gaps = sent.slice(1).map((t, i) => t - sent[i]!);
    for (let i = 1; i < gaps.length; i++)
      assert.ok(gaps[i]! >= gaps[i - 1]! - 1e-9, 'back-off never shrinks');
    // It ends up on the slowest timers and is still searched forever.
    clock.advance(3600);
    assert.equal(s.timerOf(1), s.timerCount - 1);
    const n = sent.length;
    clock.advance(600);
    assert.ok(sent.length > n, 'still searched');
    assert.ok(s.period(s.timerCount - 1) <= 300);
    s.close();
  });

  it('packs many names in ≤ 1024-byte datagrams with a sequence-numbered VERSION', () => {
    const clock = new FakeClock();
    const dgs: Buffer[] = [];
    const s = new SearchScheduler({ maxSearchPeriod: 300, clock, send: (d) => dgs.push(d) });
    for (let i = 0; i < 200; i++) s.add(i + 1, `SOME:LONGISH:PV:NAME:${i}`);
    clock.advance(0.033);
    assert.ok(dgs.length >= 1);
    const first = decodeDatagram(dgs[0]!);
    assert.equal(first[0]!.command, Command.VERSION);
    assert.equal(first[0]!.dataType, 1);
    assert.equal(first[0]!.dataCount, 13);
    const seq0 = first[0]!.parameter1;
    for (const d of dgs) assert.ok(d.length <= 1024);
    // Congestion window starts at one datagram per pass.
    assert.equal(dgs.length, 1);
    const n0 = names(dgs[0]!).length;
    assert.ok(n0 > 10 && n0 < 200);
    // Answer everything sent: the timer goes again at once and the window doubles.
    for (const m of decodeDatagram(dgs[0]!)) if (m.command === Command.SEARCH) s.reply(m.parameter2, seq0);
    clock.advance(0);
    assert.equal(dgs.length, 3, 'window doubled to 2 datagrams');
    const seqs = dgs.map((d) => decodeDatagram(d)[0]!.parameter1);
    assert.deepEqual(seqs, [seq0, seq0 + 1, seq0 + 2]);
    s.close();
  });

  it('replies update the RTT estimate; replies for unknown cids are ignored', () => {
    const clock = new FakeClock();
    let last: Buffer | undefined;
    const s = new SearchScheduler({ maxSearchPeriod: 300, clock, send: (d) => (last = d) });
    assert.equal(s.rtt, 0.032);
    s.add(7, 'A');
    clock.advance(0.032);
    const seq = decodeDatagram(last!)[0]!.parameter1;
    clock.t += 0.5; // slow reply
    assert.equal(s.reply(7, seq), true);
    assert.ok(s.rtt > 0.1, `rtt ${s.rtt}`);
    assert.equal(s.reply(7, seq), false);
    assert.equal(s.reply(999), false);
    s.close();
  });

  it('beacon anomaly moves slow names down to timer 8; boost moves names to timer 0', () => {
    const clock = new FakeClock();
    const s = new SearchScheduler({ maxSearchPeriod: 300, clock, send: () => {} });
    s.add(1, 'A');
    s.add(2, 'B');
    clock.advance(2000);
    assert.ok(s.timerOf(1)! > BEACON_ANOMALY_TIMER);
    s.beaconAnomaly();
    assert.equal(s.timerOf(1), BEACON_ANOMALY_TIMER);
    s.boost([2], 0);
    assert.equal(s.timerOf(2), 0);
    s.remove(1);
    assert.equal(s.has(1), false);
    s.close();
  });
});

describe('reply parsing', () => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const dir = [
    path.resolve(here, '../../../test/fixtures/ca-traces'),
    path.resolve(here, '../fixtures/ca-traces'),
  ].find((d) => fs.existsSync(d))!;
  const lines = (n: string) =>
    fs
      .readFileSync(path.join(dir, `${n}.jsonl`), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map(
        (l) =>
          JSON.parse(l) as { proto: string; from: string; src_port: number; dst_port: number; hex: string },
      );

  it('parses the recorded RSRV search reply (address from the source, port, minor, seq)', () => {
    const reply = lines('get_records').find(
      (l) => l.proto === 'udp' && l.from === 'server' && l.src_port === 25064,
    )!;
    const got: SearchReply[] = [];
    parseClientDatagram(Buffer.from(reply.hex, 'hex'), '127.0.0.1', (r) => got.push(r));
    assert.equal(got.length, 9);
    assert.deepEqual(got[0], { cid: 1, host: '127.0.0.1', port: 25064, minor: 13, seq: 1 });
  });

  it('parses forwarded beacons and repeater confirmations', () => {
    const notes: UdpNotice[] = [];
    for (const l of lines('repeater')) {
      if (l.proto !== 'udp' || l.from !== 'server' || !l.hex) continue;
      parseClientDatagram(
        Buffer.from(l.hex, 'hex'),
        '10.9.9.9',
        () => {},
        (n) => notes.push(n),
      );
    }
    assert.ok(notes.some((n) => n.kind === 'repeater-confirm' && n.host === '127.0.0.1'));
    const fwd = notes.filter((n) => n.kind === 'beacon' && n.host === '127.0.0.1');
    assert.ok(fwd.length >= 1);
    assert.equal(fwd[0]!.port, 25064);
    assert.equal(fwd[0]!.minor, 13);
  });

  it('survives garbage datagrams', () => {
    const got: SearchReply[] = [];
    parseClientDatagram(Buffer.from('0006ffff0000000000000000000000000000', 'hex'), '1.2.3.4', (r) =>
      got.push(r),
    );
    parseClientDatagram(Buffer.from([1, 2, 3]), '1.2.3.4', (r) => got.push(r));
    assert.equal(got.length, 0);
  });
});

describe('beacon anomalies', () => {
  it('follows libca rules: first recorded, duplicates dropped, fast or very late beacons are anomalies', () => {
    const b = new BeaconTracker(90);
    assert.equal(b.beacon('s', 0, 13, 100), 'ignored');
    assert.equal(b.beacon('s', 0, 13, 100.02), 'ignored', 'same number: duplicate');
    assert.equal(
      b.beacon('s', 1, 13, 115),
      'normal',
      'second beacon after 15 s: not an anomaly (program start was long before)',
    );
    assert.equal(b.beacon('s', 2, 13, 130), 'normal');
    assert.equal(b.beacon('s', 4, 13, 131), 'ignored', '+2: duplicate route');
    assert.equal(b.beacon('s', 5, 13, 132), 'ignored', '+3: duplicate route');
    assert.equal(b.beacon('s', 1, 13, 133), 'ignored', 'backwards');
    assert.equal(b.beacon('s', 6, 13, 145), 'normal', '+4 is processed');
    assert.equal(b.beacon('s', 7, 13, 165), 'suspicious', '1.33 × average');
    assert.equal(b.beacon('s', 8, 13, 170), 'anomaly', 'fast beacon (restart)');
    assert.equal(b.beacon('s', 100, 13, 300), 'anomaly', 'very late');
    const c = new BeaconTracker(0);
    c.beacon('t', 0, 13, 10);
    assert.equal(c.beacon('t', 1, 13, 10.02), 'anomaly', 'second beacon sooner than start→first');
  });
});

describe('client environment', () => {
  it('parses EPICS_CA_* with defaults and minimums', () => {
    const e = readClientEnv({});
    assert.equal(e.serverPort, 5064);
    assert.equal(e.repeaterPort, 5065);
    assert.equal(e.autoAddrList, true);
    assert.equal(e.connTmo, 30);
    assert.equal(e.maxSearchPeriod, 300);
    assert.equal(e.maxArrayBytes, 16384);
    assert.equal(e.autoArrayBytes, true);
    const f = readClientEnv({
      EPICS_CA_SERVER_PORT: '7000',
      EPICS_CA_ADDR_LIST: ' 10.0.0.255  host.example:7100 bad:port:x 1.2.3.4:0 ',
      EPICS_CA_AUTO_ADDR_LIST: 'no',
      EPICS_CA_MAX_SEARCH_PERIOD: '5',
      EPICS_CA_CONN_TMO: 'abc',
      EPICS_CA_NAME_SERVERS: 'ns1:6000',
      EPICS_CA_AUTO_ARRAY_BYTES: 'NO',
      EPICS_CA_MAX_ARRAY_BYTES: '1000000',
    });
    assert.equal(f.serverPort, 7000);
    assert.deepEqual(f.addrList, [
      { host: '10.0.0.255', port: 7000 },
      { host: 'host.example', port: 7100 },
    ]);
    assert.equal(f.autoAddrList, false);
    assert.equal(f.maxSearchPeriod, 60);
    assert.equal(f.connTmo, 30);
    assert.deepEqual(f.nameServers, [{ host: 'ns1', port: 6000 }]);
    assert.equal(f.autoArrayBytes, false);
    assert.equal(f.maxArrayBytes, 1000000);
    assert.equal(parseYesNo('YES', false), true);
    assert.equal(parseYesNo('No', true), false);
    assert.deepEqual(parseAddrList('', 1), []);
  });
});
