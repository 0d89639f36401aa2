/** The client's repeater registration (repeater-registration.ts) over a stand-in socket (no sockets opened). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type dgram from 'node:dgram';
import { RepeaterRegistration } from '../../src/client/repeater-registration.js';

function fakeSocket(): { socket: dgram.Socket; sent: Array<[number, number, string]> } {
  const sent: Array<[number, number, string]> = [];
  const socket = {
    send: (buf: Buffer, port: number, host: string) => void sent.push([buf.length, port, host]),
  } as unknown as dgram.Socket;
  return { socket, sent };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('registers with a zero-length datagram to 127.0.0.1:<repeater port>; a confirmation stops the retries', async () => {
  const { socket, sent } = fakeSocket();
  const reg = new RepeaterRegistration({}, 35123, () => socket);
  assert.equal(reg.confirmed, false);
  reg.register();
  assert.deepEqual(sent, [[0, 35123, '127.0.0.1']]);
  reg.confirm();
  assert.equal(reg.confirmed, true);
  reg.register(); // confirmed: nothing more to send
  await sleep(300); // past the first retry (0.2 s)
  assert.deepEqual(sent, [[0, 35123, '127.0.0.1']]);
});

test('nothing is sent without a ready socket, and a closed context stops the retries', async () => {
  const { socket, sent } = fakeSocket();
  let open = false;
  const reg = new RepeaterRegistration({}, 35125, () => (open ? socket : undefined));
  reg.register();
  assert.equal(sent.length, 0);
  open = true;
  reg.register();
  assert.equal(sent.length, 1);
  open = false; // the context closed before the retry: no retry, no repeater started
  await sleep(300);
  assert.equal(sent.length, 1);
  assert.equal(reg.confirmed, false);
});

test('close() cancels the pending retry', async () => {
  const { socket, sent } = fakeSocket();
  const reg = new RepeaterRegistration({}, 35127, () => socket);
  reg.register();
  reg.close();
  await sleep(300);
  assert.equal(sent.length, 1);
});
