/**
 * The server's allocation-free scalar read path (readScalarData) must give the same bytes as the
 * general path (snapshot + readData) for every plain, STS and TIME type of a numeric scalar,
 * conversions included; and a put through writeNow must complete synchronously like putField.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeDbr } from '../../src/protocol/dbr.js';
import { readData, readScalarData } from '../../src/server/read-value.js';
import { RecordDatabase } from '../../src/ioc/database.js';
import type { ServedChannel } from '../../src/server/provider.js';

const who = { user: 'u', host: 'h', address: '127.0.0.1' };

function db(): RecordDatabase {
  const d = new RecordDatabase();
  d.loadDatabase(`
record(ao, "ao") { field(PREC, "3") field(EGU, "V") field(HIHI, "100") field(HHSV, "MAJOR") }
record(longout, "lo") {}
record(bo, "bo") { field(ZNAM, "Off") field(ONAM, "On") }
record(waveform, "wf") { field(FTVL, "DOUBLE") field(NELM, "4") }
record(stringout, "so") { field(VAL, "abc") }
`);
  d.init();
  return d;
}

function same(ch: ServedChannel, type: number, what: string): void {
  const fast = readScalarData(ch, type);
  assert.ok(fast, `${what}: fast path applies to type ${type}`);
  const a = encodeDbr(type, 1, fast);
  const b = encodeDbr(type, 1, readData(ch, ch.snapshot(), type, 1));
  assert.deepEqual(a, b, `${what}: DBR type ${type}`);
}

const NUMERIC = [1, 2, 4, 5, 6];

test('fast scalar reads equal the snapshot path (plain, STS, TIME; every numeric type)', () => {
  const d = db();
  const values = [0, 1.5, -1.5, 2.5e9, -2.5e9, 70000.7, -40000, 1e300, NaN, Infinity, -Infinity, 255.9, 256];
  for (const pv of ['ao', 'ao.HIHI', 'lo']) {
    const ch = d.channel(pv)!;
    for (const v of values) {
      const r = ch.writeNow!(Float64Array.of(v), 6, who);
      assert.equal(r, undefined, 'a passive record put completes synchronously');
      for (const fam of [0, 7, 14]) for (const t of NUMERIC) same(ch, fam + t, `${pv}=${v}`);
    }
  }
  d.stop();
});

test('the fast path declines what it does not handle', () => {
  const d = db();
  const ao = d.channel('ao')!;
  assert.equal(readScalarData(ao, 0), undefined, 'DBR_STRING');
  assert.equal(readScalarData(ao, 3), undefined, 'DBR_ENUM');
  assert.ok(readScalarData(ao, 20), 'DBR_TIME_DOUBLE is handled');
  for (const pv of ['bo', 'wf', 'so', 'ao.DESC', 'ao.SCAN', 'ao.OUT', 'ao.NAME$'])
    assert.equal(readScalarData(d.channel(pv)!, 6), undefined, pv);
  assert.equal(readScalarData(ao, 21), undefined, 'GR types go through the snapshot');
  d.stop();
});
