/**
 * Fixture tests against the recorded softIoc / catools traces: every message of every trace
 * decodes with no leftover (also through MessageReader fed segment by segment), every DBR payload
 * decodes and re-encodes to the same bytes (ignoring the bytes EPICS leaves stale: struct pads,
 * string bytes after the NUL and the alignment padding), and the decoded values match what catools
 * printed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from '../../src/protocol/constants.js';
import { ALARM_STATUS_NAMES, SEVERITY_NAMES } from '../../src/protocol/constants.js';
import { dbrSize, decodeDbr, encodeDbr } from '../../src/protocol/dbr.js';
import { MessageReader } from '../../src/protocol/header.js';
import type { Message } from '../../src/protocol/header.js';
import {
  parseErrorPayload,
  parseEventAddPayload,
  parseSearchPayloadName,
} from '../../src/protocol/messages.js';
import type { DbrData, NativeArray } from '../../src/protocol/values.js';
import {
  circuits,
  loadTrace,
  loadTraceOutput,
  tcpStreams,
  traceNames,
  udpDatagrams,
} from '../helpers/traces.js';

function arr(v: NativeArray): unknown[] {
  return Array.isArray(v) ? v : Array.from(v as ArrayLike<number>);
}

const NAMES = traceNames();

test('the fixture folder holds the expected scenarios', () => {
  for (const n of ['search', 'get_dbr_types', 'monitor', 'big_array', 'put_scalar', 'repeater']) {
    assert.ok(NAMES.includes(n), n);
  }
});

test('every TCP direction and UDP datagram of every trace splits into whole messages', () => {
  let total = 0;
  for (const name of NAMES) {
    const packets = loadTrace(name);
    for (const [key, s] of tcpStreams(packets)) {
      assert.equal(s.leftover, 0, `${name} ${key}`);
      total += s.messages.length;
      // The same messages through MessageReader, fed segment by segment as captured.
      const reader = new MessageReader();
      const seen: string[] = [];
      for (const p of packets) {
        if (p.proto !== 'tcp' || `${p.srcPort}>${p.dstPort}` !== key) continue;
        reader.push(p.data, (m) => seen.push(msgKey(m)));
      }
      assert.equal(reader.pending, 0);
      assert.deepEqual(seen, s.messages.map(msgKey), `${name} ${key}`);
    }
    for (const d of udpDatagrams(packets)) {
      assert.equal(d.leftover, 0, `${name} udp #${d.packet.index}`);
      total += d.messages.length;
    }
  }
  assert.ok(total > 500, `only ${total} messages`);
});

function msgKey(m: Message): string {
  return `${m.command}/${m.dataType}/${m.dataCount}/${m.parameter1}/${m.parameter2}/${m.payload.toString('hex')}`;
}

// ---------------------------------------------------------------------------------------------
// Re-encoding with the stale bytes masked.

const PADS: Record<number, [number, number]> = {
  11: [4, 5],
  13: [4, 8],
  15: [12, 14],
  17: [12, 14],
  18: [12, 15],
  20: [12, 16],
  23: [6, 8],
  27: [6, 8],
  30: [6, 8],
  34: [6, 8],
  25: [18, 19],
  32: [20, 21],
};

function stringRegions(type: number, count: number, meta: number): [number, number][] {
  const r: [number, number][] = [];
  const vt = type <= 34 ? type % 7 : type <= 36 ? 3 : 0;
  if (vt === 0) for (let i = 0; i < count; i++) r.push([meta + 40 * i, meta + 40 * i + 40]);
  if ([22, 25, 26, 29, 32, 33].includes(type)) r.push([4, 12]);
  if ([23, 27, 30, 34].includes(type)) r.push([8, 16]);
  if (type === 24 || type === 31) for (let i = 0; i < 16; i++) r.push([6 + 26 * i, 6 + 26 * i + 26]);
  return r;
}

/** The payload with pads, alignment padding and string bytes after the NUL zeroed. */
function canonical(payload: Buffer, type: number, count: number): Buffer {
  const size = dbrSize(type, count);
  const b = Buffer.from(payload.subarray(0, size));
  const pad = PADS[type];
  if (pad) b.fill(0, pad[0], pad[1]);
  const meta = size - count * (type <= 34 ? [40, 2, 4, 2, 1, 4, 8][type % 7] : type <= 36 ? 2 : 40);
  for (const [a, e] of stringRegions(type, count, meta)) {
    const z = b.subarray(a, e).indexOf(0);
    if (z >= 0) b.fill(0, a + z, e);
  }
  return b;
}

interface DataMessage {
  trace: string;
  from: 'client' | 'server';
  m: Message;
}

function dataMessages(): DataMessage[] {
  const out: DataMessage[] = [];
  for (const name of NAMES) {
    for (const s of tcpStreams(loadTrace(name)).values()) {
      for (const m of s.messages) {
        const serverData = s.from === 'server' && (m.command === 15 || m.command === 1) && m.payloadSize > 0;
        const clientData = s.from === 'client' && (m.command === 4 || m.command === 19);
        if (serverData || clientData) out.push({ trace: name, from: s.from, m });
      }
    }
  }
  return out;
}

test('every DBR payload in the traces decodes and re-encodes to the same bytes', () => {
  const all = dataMessages();
  assert.ok(all.length >= 100, `${all.length} data messages`);
  const types = new Set<number>();
  for (const { trace, from, m } of all) {
    const where = `${trace} ${from} cmd ${m.command} type ${m.dataType} count ${m.dataCount}`;
    types.add(m.dataType);
    const d = decodeDbr(m.dataType, m.dataCount, m.payload);
    assert.equal(d.value.length, m.dataCount, where);
    if (from === 'client' && m.dataType === 0 && m.dataCount === 1) {
      // caput sends a single string in short form, zero padded.
      const e = encodeDbr(0, 1, d, { shortString: true });
      const padded = Buffer.alloc(m.payload.length);
      e.copy(padded);
      assert.deepEqual(padded, m.payload, where);
      assert.ok(m.payload.length < 40, where);
      continue;
    }
    assert.ok(m.payload.length >= dbrSize(m.dataType, m.dataCount), where);
    assert.equal(m.payload.length % 8, 0, where);
    const e = encodeDbr(m.dataType, m.dataCount, d);
    assert.deepEqual(
      canonical(e, m.dataType, m.dataCount),
      canonical(m.payload, m.dataType, m.dataCount),
      where,
    );
  }
  // The traces cover plain, STS, TIME, GR, CTRL and the special types.
  for (const t of [0, 4, 6, 7, 14, 18, 19, 20, 24, 27, 29, 30, 31, 33, 34, 37, 38]) {
    assert.ok(types.has(t), `type ${t} seen`);
  }
});

// ---------------------------------------------------------------------------------------------
// Values against catools output.

interface Block {
  pv: string;
  fields: Map<string, string>;
  enums: string[];
}

/** Parse `caget -d` output into blocks of "Key: value" lines. */
function parseCagetD(stdout: string): Block[] {
  const blocks: Block[] = [];
  for (const line of stdout.split('\n')) {
    if (!line) continue;
    if (!line.startsWith(' ')) {
      blocks.push({ pv: line, fields: new Map(), enums: [] });
      continue;
    }
    const b = blocks[blocks.length - 1];
    const e = /^\s+\[\s*\d+\] (.*)$/.exec(line);
    if (e) {
      b.enums.push(e[1]);
      continue;
    }
    const m = /^\s+([^:]+):\s*(.*)$/.exec(line);
    if (m) b.fields.set(m[1], m[2]);
  }
  return blocks;
}

const LIMIT_FIELDS: [string, keyof DbrData][] = [
  ['Lo disp limit', 'lowerDispLimit'],
  ['Hi disp limit', 'upperDispLimit'],
  ['Lo alarm limit', 'lowerAlarmLimit'],
  ['Lo warn limit', 'lowerWarningLimit'],
  ['Hi warn limit', 'upperWarningLimit'],
  ['Hi alarm limit', 'upperAlarmLimit'],
  ['Lo ctrl limit', 'lowerCtrlLimit'],
  ['Hi ctrl limit', 'upperCtrlLimit'],
];

function num(s: string): number {
  return s.trim() === 'nan' ? NaN : Number(s);
}

test('get_dbr_types: decoded metadata matches caget -d output', () => {
  const cmds = loadTraceOutput('get_dbr_types');
  const circs = circuits(loadTrace('get_dbr_types'));
  assert.equal(cmds.length, circs.length);
  let checked = 0;
  const seenKeys = new Set<string>();
  cmds.forEach((cmd, i) => {
    const blocks = parseCagetD(cmd.stdout);
    const replies = circs[i].server
      .filter((m) => m.command === Command.READ_NOTIFY)
      .sort((a, b) => a.parameter2 - b.parameter2);
    assert.equal(replies.length, blocks.length, cmd.command);
    blocks.forEach((blk, j) => {
      const m = replies[j];
      assert.equal(m.parameter1, 1, 'ECA_NORMAL');
      const d = decodeDbr(m.dataType, m.dataCount, m.payload);
      const f = blk.fields;
      for (const k of f.keys()) seenKeys.add(k);
      const where = `${cmd.command} ${blk.pv}`;
      if (f.has('Class Name')) assert.deepEqual(d.value, [f.get('Class Name')], where);
      if (f.has('Value')) {
        const text = f.get('Value') as string;
        if (d.enumStrs) assert.equal(d.enumStrs[d.value[0] as number], text, where);
        else if (Array.isArray(d.value)) assert.deepEqual(d.value, [text], where);
        else assert.deepEqual(arr(d.value), text.split(' ').map(Number), where);
      }
      if (f.has('Status')) assert.equal(ALARM_STATUS_NAMES[d.status as number], f.get('Status'), where);
      if (f.has('Severity')) assert.equal(SEVERITY_NAMES[d.severity as number], f.get('Severity'), where);
      if (f.has('Units')) assert.equal(d.units, f.get('Units'), where);
      if (f.has('Precision')) assert.equal(d.precision, Number(f.get('Precision')), where);
      for (const [label, key] of LIMIT_FIELDS) {
        if (f.has(label)) assert.deepEqual(d[key], num(f.get(label) as string), `${where} ${label}`);
        else if (d[key] !== undefined) assert.fail(`${where}: ${label} decoded but not printed`);
      }
      if (f.has('Enums')) {
        assert.deepEqual(d.enumStrs, blk.enums, where);
        assert.equal(Number(/\d+/.exec(f.get('Enums') as string)?.[0]), blk.enums.length);
      }
      if (f.has('Ack transient?')) assert.equal(d.ackt ? 'YES' : 'NO', f.get('Ack transient?'), where);
      if (f.has('Ack severity')) assert.equal(SEVERITY_NAMES[d.acks as number], f.get('Ack severity'), where);
      if (f.has('Timestamp')) {
        const s = d.stamp as { secPastEpoch: number; nsec: number };
        const iso = new Date((s.secPastEpoch + 631152000) * 1000)
          .toISOString()
          .replace('T', ' ')
          .slice(0, 19);
        // catools rounds the nanoseconds to microseconds.
        const us = Math.round(s.nsec / 1000);
        assert.ok(us < 1000000);
        assert.equal(f.get('Timestamp'), `${iso}.${String(us).padStart(6, '0')}`, where);
      }
      checked++;
    });
  });
  assert.equal(checked, 12);
  for (const k of [
    'Units',
    'Precision',
    'Enums',
    'Ack transient?',
    'Class Name',
    'Timestamp',
    'Hi ctrl limit',
  ]) {
    assert.ok(seenKeys.has(k), k);
  }
});

test('get_dbr_types: NaN alarm limits of an ao travel as quiet NaN (f32 and f64)', () => {
  const replies = circuits(loadTrace('get_dbr_types'))
    .flatMap((c) => c.server)
    .filter((m) => m.command === Command.READ_NOTIFY);
  const ctrlFloat = replies.find((m) => m.dataType === 30) as Message;
  assert.equal(ctrlFloat.payload.subarray(24, 28).toString('hex'), '7fc00000');
  assert.ok(Number.isNaN(decodeDbr(30, 1, ctrlFloat.payload).upperAlarmLimit));
  const grDouble = replies.find((m) => m.dataType === 27) as Message;
  assert.equal(grDouble.payload.subarray(32, 40).toString('hex'), '7ff8000000000000');
  // Re-encoding a decoded NaN gives the same quiet NaN bytes.
  const e = encodeDbr(27, 1, decodeDbr(27, 1, grDouble.payload));
  assert.equal(e.subarray(32, 40).toString('hex'), '7ff8000000000000');
});

test('monitor: camonitor lines match the decoded EVENT_ADD updates', () => {
  const [cmd] = loadTraceOutput('monitor');
  const lines = cmd.stdout.split('\n').filter((l) => l.trim());
  const circ = circuits(loadTrace('monitor'))[0];
  const adds = circ.client.filter((m) => m.command === Command.EVENT_ADD);
  const names = new Map<number, string>();
  const creates = circ.client.filter((m) => m.command === Command.CREATE_CHAN);
  const sidToCid = new Map<number, number>();
  for (const r of circ.server.filter((m) => m.command === Command.CREATE_CHAN))
    sidToCid.set(r.parameter2, r.parameter1);
  for (const a of adds) {
    assert.equal(parseEventAddPayload(a.payload).mask, 5);
    const cid = sidToCid.get(a.parameter1);
    const c = creates.find((x) => x.parameter1 === cid) as Message;
    names.set(a.parameter2, parseSearchPayloadName(c.payload));
  }
  const updates = circ.server.filter((m) => m.command === Command.EVENT_ADD && m.payloadSize > 0);
  assert.equal(updates.length, lines.length);
  updates.forEach((u, i) => {
    const d = decodeDbr(u.dataType, u.dataCount, u.payload);
    const parts = lines[i].trim().split(/\s+/);
    assert.equal(parts[0], names.get(u.parameter2));
    const s = d.stamp as { secPastEpoch: number; nsec: number };
    const iso = new Date((s.secPastEpoch + 631152000) * 1000).toISOString().slice(0, 10);
    assert.equal(parts[1], iso);
    // The value fields follow date and time; arrays are prefixed with their count.
    const vals = arr(d.value).map(Number);
    const printed =
      u.dataCount > 1 || parts[0] === 'T:wf' ? parts.slice(4, 4 + vals.length) : parts.slice(3, 4);
    if (u.dataCount > 1) assert.equal(Number(parts[3]), u.dataCount);
    assert.deepEqual(printed.map(Number), vals, lines[i]);
  });
});

test('big_array: the 800016-byte extended reply decodes to value[i] = i/2', () => {
  const circ = circuits(loadTrace('big_array'))[0];
  const reply = circ.server.find((m) => m.command === Command.READ_NOTIFY) as Message;
  assert.equal(reply.extended, true);
  assert.equal(reply.payloadSize, 800016);
  assert.equal(reply.dataCount, 100000);
  const d = decodeDbr(reply.dataType, reply.dataCount, reply.payload);
  const v = d.value as Float64Array;
  assert.ok(v instanceof Float64Array);
  for (let i = 0; i < v.length; i += 997) assert.equal(v[i], i / 2);
  assert.equal(v[99999], 49999.5);
  const create = circ.server.find((m) => m.command === Command.CREATE_CHAN) as Message;
  assert.equal(create.extended, true);
  assert.equal(create.dataCount, 100000);
});

test('put_errors: the ERROR for a failed WRITE embeds the request header and the PV name', () => {
  const err = circuits(loadTrace('put_errors'))
    .flatMap((c) => c.server)
    .find((m) => m.command === Command.ERROR) as Message;
  assert.equal(err.parameter2, 160);
  const { header, text } = parseErrorPayload(err.payload);
  assert.equal(header.command, Command.WRITE);
  assert.equal(header.dataType, 0);
  assert.equal(header.dataCount, 1);
  assert.equal(text, 'T:ao');
  assert.equal(err.parameter1, header.parameter2); // cid
});

test('get_records: TIME_STRING reads of enums and long strings', () => {
  const values: string[] = [];
  for (const c of circuits(loadTrace('get_records'))) {
    for (const m of c.server) {
      if (m.command === Command.READ_NOTIFY && m.dataType === 14) {
        values.push(...(decodeDbr(14, m.dataCount, m.payload).value as string[]));
      }
    }
  }
  assert.ok(values.includes('Open'));
  assert.ok(values.includes('Readout'));
  assert.ok(values.includes('a long string value beyond forty charac'));
  assert.ok(values.includes('T:ao NPP NMS'));
});
