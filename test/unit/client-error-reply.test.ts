/**
 * A server's ERROR message routed by error-reply.ts (to a pending get / put, a subscription, a
 * WRITE's channel, or the context), the exception report of ca-exception.ts, and the pending
 * operation table of pending-ops.ts, over a stand-in context (no sockets).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command, ECA, ecaMessage } from '../../src/protocol/constants.js';
import { encodeHeaderOnly } from '../../src/protocol/header.js';
import type { Message } from '../../src/protocol/header.js';
import { handleErrorReply } from '../../src/client/error-reply.js';
import { reportException } from '../../src/client/ca-exception.js';
import type { CaException } from '../../src/client/ca-exception.js';
import { finishOp, startOp } from '../../src/client/pending-ops.js';
import type { PendingOp } from '../../src/client/pending-ops.js';
import type { Channel, GetResult } from '../../src/client/channel.js';
import type { Circuit } from '../../src/client/circuit.js';
import type { Context } from '../../src/client/context.js';
import { AccessError, GetError, PutError, TimeoutError } from '../../src/client/errors.js';

interface Stand {
  ctx: Context;
  exceptions: Array<[number, string, string | undefined]>;
  holds: () => number;
}

function standIn(channels: Map<number, Channel> = new Map(), subs: Map<number, unknown> = new Map()): Stand {
  const exceptions: Array<[number, string, string | undefined]> = [];
  let holds = 0;
  let id = 100;
  const fake = {
    _ops: new Map<number, PendingOp>(),
    _nextId: () => id++,
    _hold: () => void holds++,
    _release: () => void holds--,
    _channel: (cid: number) => channels.get(cid),
    _subscription: (sid: number) => subs.get(sid),
    _exception: (eca: number, text: string, pv?: string) => void exceptions.push([eca, text, pv]),
  };
  return { ctx: fake as unknown as Context, exceptions, holds: () => holds };
}

const circuit = { address: '127.0.0.1:5064' } as Circuit;

/** An ERROR message about `inner` (a request header) with `text`. */
function errorMessage(status: number, inner: Buffer | undefined, text: string): Message {
  const payload = inner ? Buffer.concat([inner, Buffer.from(`${text}\0`, 'latin1')]) : Buffer.alloc(0);
  return {
    command: Command.ERROR,
    payloadSize: payload.length,
    dataType: 0,
    dataCount: 0,
    parameter1: 0,
    parameter2: status,
    payload,
    extended: false,
  };
}

function channel(name: string): Channel {
  return { name, pending: undefined } as unknown as Channel;
}

test('ERROR about a READ_NOTIFY / WRITE_NOTIFY settles its operation with the typed error', async () => {
  const s = standIn();
  const ch = channel('P:a');
  const results: Array<Promise<GetResult | undefined>> = [];
  for (const [kind, cmd, status] of [
    ['get', Command.READ_NOTIFY, ECA.GETFAIL],
    ['put', Command.WRITE_NOTIFY, ECA.PUTFAIL],
    ['put', Command.WRITE_NOTIFY, ECA.NOWTACCESS],
  ] as const) {
    results.push(
      new Promise((resolve, reject) => {
        const op = startOp(s.ctx, ch, kind, 6, 10, resolve, reject);
        handleErrorReply(
          s.ctx,
          circuit,
          errorMessage(status, encodeHeaderOnly(cmd, 6, 1, 1, op.ioid), 'why'),
        );
      }),
    );
  }
  await assert.rejects(results[0]!, (e: unknown) => e instanceof GetError && e.eca === ECA.GETFAIL);
  await assert.rejects(
    results[1]!,
    (e: unknown) => e instanceof PutError && e.message === `${ecaMessage(ECA.PUTFAIL)} (P:a)`,
  );
  await assert.rejects(results[2]!, (e: unknown) => e instanceof AccessError);
  assert.equal(s.holds(), 0);
  assert.equal((s.ctx as unknown as { _ops: Map<number, unknown> })._ops.size, 0);
  assert.equal(ch.pending?.size, 0);
  assert.deepEqual(s.exceptions, []);
});

test('ERROR about an EVENT_ADD, a WRITE, an unknown request, or without a request header', () => {
  const ch = channel('P:w');
  const s = standIn(new Map([[7, ch]]), new Map([[42, { channel: channel('P:sub') }]]));
  handleErrorReply(
    s.ctx,
    circuit,
    errorMessage(ECA.BADTYPE, encodeHeaderOnly(Command.EVENT_ADD, 6, 1, 3, 42), 'no'),
  );
  handleErrorReply(
    s.ctx,
    circuit,
    errorMessage(ECA.PUTFAIL, encodeHeaderOnly(Command.WRITE, 6, 2, 3, 7), 'locked'),
  );
  handleErrorReply(
    s.ctx,
    circuit,
    errorMessage(ECA.PUTFAIL, encodeHeaderOnly(Command.WRITE, 0, 1, 3, 7), ''),
  );
  handleErrorReply(
    s.ctx,
    circuit,
    errorMessage(ECA.PUTFAIL, encodeHeaderOnly(Command.WRITE, 6, 1, 3, 8), 'gone'),
  );
  handleErrorReply(s.ctx, circuit, errorMessage(ECA.INTERNAL, undefined, ''));
  // an operation that is no longer pending: reported against the circuit
  handleErrorReply(
    s.ctx,
    circuit,
    errorMessage(ECA.GETFAIL, encodeHeaderOnly(Command.READ_NOTIFY, 6, 1, 1, 999), 'late'),
  );
  assert.deepEqual(s.exceptions, [
    [ECA.BADTYPE, `subscription of "P:sub": ${ecaMessage(ECA.BADTYPE)}: no`, 'P:sub'],
    [ECA.PUTFAIL, 'op=1, channel=P:w, type=DBR_DOUBLE, count=2, ctx="locked"', 'P:w'],
    [ECA.PUTFAIL, 'op=1, channel=P:w, type=DBR_STRING, count=1, ctx="P:w"', 'P:w'],
    [ECA.PUTFAIL, `127.0.0.1:5064: ${ecaMessage(ECA.PUTFAIL)}: gone`, undefined],
    [ECA.INTERNAL, `127.0.0.1:5064: ${ecaMessage(ECA.INTERNAL)}`, undefined],
    [ECA.GETFAIL, `127.0.0.1:5064: ${ecaMessage(ECA.GETFAIL)}: late`, undefined],
  ]);
});

test('an operation times out once, and settles only once', async () => {
  const s = standIn();
  const ch = channel('P:t');
  let settled = 0;
  const p = new Promise<GetResult | undefined>((resolve, reject) => {
    const op = startOp(s.ctx, ch, 'get', 6, 0.02, resolve, (e) => {
      settled++;
      reject(e);
    });
    assert.equal(s.holds(), 1);
    setTimeout(() => finishOp(s.ctx, op, new Error('too late')), 60);
  });
  await assert.rejects(
    p,
    (e: unknown) => e instanceof TimeoutError && e.message === "get of 'P:t' timed out after 0.02 s",
  );
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(settled, 1);
  assert.equal(s.holds(), 0);
});

test('reportException: to every listener (a throwing one does not stop the others), else printed as libca', () => {
  const got: CaException[] = [];
  // a listener's error is rethrown from a microtask: collect those tasks instead of running them
  const later: Array<() => void> = [];
  const realQueue = globalThis.queueMicrotask;
  globalThis.queueMicrotask = (f: () => void) => void later.push(f);
  try {
    const listeners = new Set<(e: CaException) => void>([
      () => {
        throw new Error('listener bug');
      },
      (e) => got.push(e),
    ]);
    reportException(listeners, ECA.DBLCHNL, 'Channel: "X"', 'X');
    reportException(listeners, ECA.NOSEARCHADDR, 'no addresses');
  } finally {
    globalThis.queueMicrotask = realQueue;
  }
  assert.equal(later.length, 2);
  for (const f of later) assert.throws(f, /listener bug/);
  assert.deepEqual(got, [
    { eca: ECA.DBLCHNL, message: ecaMessage(ECA.DBLCHNL), context: 'Channel: "X"', pvname: 'X' },
    { eca: ECA.NOSEARCHADDR, message: ecaMessage(ECA.NOSEARCHADDR), context: 'no addresses' },
  ]);

  const written: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((s: string) => (written.push(s), true)) as typeof process.stderr.write;
  try {
    reportException(new Set(), ECA.DBLCHNL, 'ctx one'); // a warning (severity bits 0)
    reportException(new Set(), ECA.UNRESPTMO, 'ctx two');
  } finally {
    process.stderr.write = write;
  }
  const kind = (eca: number): string => ((eca & 7) === 0 ? 'Warning' : 'Error');
  assert.equal(
    written[0],
    'CA.Client.Exception...............................................\n' +
      `    ${kind(ECA.DBLCHNL)}: "${ecaMessage(ECA.DBLCHNL)}"\n    Context: "ctx one"\n` +
      '..................................................................\n',
  );
  assert.match(
    written[1]!,
    new RegExp(`${kind(ECA.UNRESPTMO)}: "${ecaMessage(ECA.UNRESPTMO)}"\\n    Context: "ctx two"`),
  );
});
