// The client's TCP reassembly (StreamFramer) against recorded RSRV byte streams split at random.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StreamFramer } from '../../src/client/circuit.js';
import { decodeResult } from '../../src/client/channel.js';
import { MessageReader, ProtocolError } from '../../src/protocol/header.js';
import type { Message } from '../../src/protocol/header.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = [
  path.resolve(here, '../../../test/fixtures/ca-traces'),
  path.resolve(here, '../fixtures/ca-traces'),
].find((d) => fs.existsSync(d))!;

function serverStream(name: string): Buffer {
  const lines = fs
    .readFileSync(path.join(dir, `${name}.jsonl`), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { proto: string; src_port: number; hex: string });
  return Buffer.concat(
    lines.filter((l) => l.proto === 'tcp' && l.src_port === 25064).map((l) => Buffer.from(l.hex, 'hex')),
  );
}

function summary(m: Message): string {
  return `${m.command}/${m.dataType}/${m.dataCount}/${m.parameter1}/${m.parameter2}/${m.payload.toString('hex')}`;
}

describe('StreamFramer', () => {
  for (const name of ['big_array', 'monitor', 'get_records', 'get_dbr_types']) {
    it(`splits the recorded ${name} stream like MessageReader, at any chunking`, () => {
      const stream = serverStream(name);
      const ref: string[] = [];
      new MessageReader().push(stream, (m) => ref.push(summary(m)));
      assert.ok(ref.length > 0);
      let seed = 12345;
      const rnd = (n: number): number => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return seed % n;
      };
      for (const maxChunk of [1, 7, 100, 4096, 70000]) {
        if (maxChunk === 1 && stream.length > 200000) continue;
        const f = new StreamFramer(1 << 30);
        const got: string[] = [];
        for (let off = 0; off < stream.length;) {
          const n = 1 + rnd(maxChunk);
          f.push(stream.subarray(off, off + n), (m) => got.push(summary(m)));
          off += n;
        }
        assert.deepEqual(got, ref, `chunks up to ${maxChunk}`);
        assert.equal(f.pending, 0);
      }
    });
  }

  it('decodes a large owned payload in place, equal to the copying decoder', () => {
    const stream = serverStream('big_array');
    const f = new StreamFramer(1 << 30);
    let big: { m: Message; owned: boolean } | undefined;
    for (let off = 0; off < stream.length; off += 1000) {
      f.push(stream.subarray(off, off + 1000), (m, owned) => {
        if (m.payloadSize > 100000) big = { m: { ...m }, owned };
      });
    }
    assert.ok(big && big.owned);
    const copy = decodeResult({ ...big.m, payload: Buffer.from(big.m.payload) }, false);
    const inPlace = decodeResult(big.m, true);
    assert.equal(inPlace.count, 100000);
    assert.deepEqual(inPlace.stamp, copy.stamp);
    assert.deepEqual(inPlace.value, copy.value);
    assert.equal((inPlace.value as Float64Array)[99999], 49999.5);
  });

  it('throws ProtocolError on a misaligned or oversized message', () => {
    assert.throws(
      () =>
        new StreamFramer(1 << 20).push(
          Buffer.from('0001000500060001000000010000000200000000000000', 'hex'),
          () => {},
        ),
      ProtocolError,
    );
    const h = Buffer.alloc(24);
    h.writeUInt16BE(0xffff, 2);
    h.writeUInt32BE(1 << 21, 16);
    assert.throws(() => new StreamFramer(1 << 20).push(h, () => {}), ProtocolError);
  });
});
