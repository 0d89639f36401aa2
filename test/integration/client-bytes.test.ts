// The client's first datagram and first circuit bytes are byte-identical to libca's (search trace).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Context } from '../../src/client/context.js';
import { TRACE_DIR } from './client-fake-ioc.js';

interface Line {
  proto: string;
  from: string;
  src_port: number;
  dst_port: number;
  hex: string;
}

describe('client bytes vs libca', () => {
  it('caget T:ai: search datagram and circuit start match the recorded libca bytes', async () => {
    const lines = fs
      .readFileSync(path.join(TRACE_DIR, 'search.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Line);
    const libcaUdp = lines.find((l) => l.proto === 'udp' && l.from === 'client')!.hex;
    const libcaReply = lines.find((l) => l.proto === 'udp' && l.from === 'server')!.hex;
    const libcaTcp = lines.find((l) => l.proto === 'tcp' && l.from === 'client')!.hex;

    const tcpIn: Buffer[] = [];
    let gotTcp!: () => void;
    const tcpDone = new Promise<void>((r) => (gotTcp = r));
    const server = net.createServer((s) => {
      s.on('data', (d) => {
        tcpIn.push(d);
        if (Buffer.concat(tcpIn).length >= libcaTcp.length / 2) gotTcp();
      });
      s.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const udp = dgram.createSocket('udp4');
    await new Promise<void>((r) => udp.bind(port, '127.0.0.1', r));
    let firstDatagram: Buffer | undefined;
    udp.on('message', (b, rinfo) => {
      if (firstDatagram) return;
      firstDatagram = b;
      // Answer with RSRV's recorded reply, pointed at our port.
      const reply = Buffer.from(libcaReply, 'hex');
      reply.writeUInt16BE(port, 16 + 4);
      udp.send(reply, rinfo.port, rinfo.address);
    });
    const ctx = new Context({
      env: {
        EPICS_CA_AUTO_ADDR_LIST: 'NO',
        EPICS_CA_ADDR_LIST: '127.0.0.1',
        EPICS_CA_SERVER_PORT: String(port),
      },
      repeater: false,
      clientName: 'root',
      hostName: 'vm',
    });
    try {
      ctx.channel('T:ai');
      await tcpDone;
      assert.equal(firstDatagram?.toString('hex'), libcaUdp);
      assert.equal(Buffer.concat(tcpIn).toString('hex').slice(0, libcaTcp.length), libcaTcp);
    } finally {
      await ctx.close();
      await new Promise<void>((r) => udp.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
