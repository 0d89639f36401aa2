// Tests of the test infrastructure itself: free ports, the CA env block, the IOC child-process
// wrapper (with stand-in processes) and the pyepics runner.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { describe, test } from 'node:test';
import { IocStartError, iocArgs, startIoc } from '../helpers/ioc-process.js';
import {
  PeersMissingError,
  killAllPython,
  locatePeers,
  peersSkipReason,
  requirePeers,
  runPyepics,
  runPyepicsJson,
} from '../helpers/peers.js';
import { caClientEnv, caEnv, childEnv, freePort, portFree } from '../helpers/ports.js';

/** Whether `pid` is a live process (a zombie waiting for its reaper counts as gone). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

describe('ports', () => {
  test('freePort returns distinct ports whose pair (P, P+1) is free for TCP and UDP', async () => {
    const ports = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    assert.equal(new Set(ports).size, ports.length);
    for (const p of ports) {
      assert.ok(p >= 1024 && p < 32768, `port ${p} below the ephemeral range`);
      assert.equal(await portFree(p), true);
      assert.equal(await portFree(p + 1), true);
    }
  });

  test('portFree sees a TCP listener and a UDP socket', async () => {
    const p = await freePort();
    const srv = net.createServer();
    await new Promise<void>((resolve) => srv.listen(p, '127.0.0.1', resolve));
    assert.equal(await portFree(p), false, 'TCP port taken');
    await new Promise<void>((resolve) => srv.close(() => resolve()));
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => sock.bind(p + 1, '127.0.0.1', resolve));
    assert.equal(await portFree(p + 1), false, 'UDP port taken');
    await new Promise<void>((resolve) => sock.close(() => resolve()));
    assert.equal(await portFree(p), true);
  });

  test('caEnv keeps everything on loopback with a private repeater port', () => {
    const env = caEnv(25000);
    assert.deepEqual(env, {
      EPICS_CA_SERVER_PORT: '25000',
      EPICS_CAS_SERVER_PORT: '25000',
      EPICS_CA_REPEATER_PORT: '25001',
      EPICS_CAS_BEACON_PORT: '25001',
      EPICS_CA_ADDR_LIST: '127.0.0.1',
      EPICS_CA_AUTO_ADDR_LIST: 'NO',
      EPICS_CAS_INTF_ADDR_LIST: '127.0.0.1',
      EPICS_CAS_BEACON_ADDR_LIST: '127.0.0.1',
      EPICS_CAS_AUTO_BEACON_ADDR_LIST: 'NO',
    });
    assert.equal(caEnv(25000, 26000).EPICS_CA_REPEATER_PORT, '26000');
    assert.deepEqual(Object.keys(caClientEnv(25000)).sort(), [
      'EPICS_CA_ADDR_LIST',
      'EPICS_CA_AUTO_ADDR_LIST',
      'EPICS_CA_REPEATER_PORT',
      'EPICS_CA_SERVER_PORT',
    ]);
    assert.throws(() => caEnv(0), RangeError);
    assert.throws(() => caEnv(70000), RangeError);
    assert.throws(() => caEnv(1.5), RangeError);
  });

  test('childEnv drops inherited EPICS_* variables and applies overrides', () => {
    const saved = process.env.EPICS_CA_ADDR_LIST;
    process.env.EPICS_CA_ADDR_LIST = '10.0.0.255';
    try {
      const env = childEnv({ EPICS_CA_SERVER_PORT: '25000', PATH: undefined });
      assert.equal(env.EPICS_CA_ADDR_LIST, undefined);
      assert.equal(env.EPICS_CA_SERVER_PORT, '25000');
      assert.equal(env.PATH, undefined);
    } finally {
      if (saved === undefined) delete process.env.EPICS_CA_ADDR_LIST;
      else process.env.EPICS_CA_ADDR_LIST = saved;
    }
  });
});

describe('ioc-process', () => {
  test('iocArgs builds softIoc-style arguments', () => {
    assert.deepEqual(iocArgs({ macros: 'P=X:', acf: 'a.acf', db: ['a.db', 'b.db'], args: ['-S'] }), [
      '-m',
      'P=X:',
      '-a',
      'a.acf',
      '-d',
      'a.db',
      '-d',
      'b.db',
      '-S',
    ]);
    assert.deepEqual(iocArgs({ db: 'x.db' }), ['-d', 'x.db']);
  });

  test('startIoc waits for the ready line, passes the CA env and stops the process', async () => {
    // A stand-in IOC: prints its env and the ready line after 200 ms, then idles.
    const script = `
      setTimeout(() => {
        console.log('port=' + process.env.EPICS_CA_SERVER_PORT + ' addr=' + process.env.EPICS_CA_ADDR_LIST);
        console.log('args=' + process.argv.slice(1).join(','));
        console.log('iocRun: All initialization complete');
      }, 200);
      setInterval(() => {}, 1000);
    `;
    const ioc = await startIoc({ command: [process.execPath, '-e', script, '--'], db: 'x.db', timeout: 10 });
    try {
      assert.match(ioc.output(), new RegExp(`port=${ioc.port} addr=127\\.0\\.0\\.1`));
      assert.match(ioc.output(), /args=-d,x\.db/);
      assert.equal(ioc.env.EPICS_CA_SERVER_PORT, String(ioc.port));
      assert.equal(ioc.clientEnv.EPICS_CA_SERVER_PORT, String(ioc.port));
      assert.equal(ioc.repeaterPort, ioc.port + 1);
    } finally {
      const info = await ioc.stop();
      assert.equal(info.signal, 'SIGTERM');
    }
    // stop is idempotent
    await ioc.stop();
  });

  test('startIoc escalates to SIGKILL when SIGTERM is ignored', async () => {
    const script = `
      process.on('SIGTERM', () => {});
      console.log('iocRun: All initialization complete');
      setInterval(() => {}, 1000);
    `;
    const ioc = await startIoc({ command: [process.execPath, '-e', script], timeout: 10 });
    const t0 = Date.now();
    const info = await ioc.stop(0.3);
    assert.equal(info.signal, 'SIGKILL');
    assert.ok(Date.now() - t0 < 5000);
  });

  test('IOCs die with the test process when it is killed by SIGTERM', async () => {
    const helper = new URL('../helpers/ioc-process.js', import.meta.url).href;
    const standIn = `console.log('iocRun: All initialization complete'); setInterval(() => {}, 1000);`;
    const script = `
      import { startIoc } from ${JSON.stringify(helper)};
      const ioc = await startIoc({ command: [process.execPath, '-e', ${JSON.stringify(standIn)}], timeout: 10 });
      console.log('pid=' + ioc.pid);
      setInterval(() => {}, 1000);
    `;
    const parent = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    parent.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<NodeJS.Signals | null>((r) => parent.once('exit', (_c, sig) => r(sig)));
    try {
      const deadline = Date.now() + 10000;
      while (!/pid=\d+/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const pid = Number(/pid=(\d+)/.exec(out)?.[1]);
      assert.ok(pid > 0, `no pid printed: ${out}`);
      assert.ok(running(pid), 'stand-in IOC running');
      parent.kill('SIGTERM');
      assert.equal(await exited, 'SIGTERM', 'the process still ends by the signal');
      const gone = Date.now() + 5000;
      let alive = true;
      while (alive && Date.now() < gone) {
        alive = running(pid);
        if (alive) await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(alive, false, 'the IOC child was killed with its parent');
    } finally {
      parent.kill('SIGKILL');
    }
  });

  test('startIoc rejects with IocStartError (with the output) when the IOC exits early', async () => {
    const script = `console.error('dbLoadRecords: no such file'); process.exit(3);`;
    await assert.rejects(
      startIoc({ command: [process.execPath, '-e', script], timeout: 10 }),
      (err: unknown) =>
        err instanceof IocStartError && /code 3/.test(err.message) && /no such file/.test(err.output),
    );
  });

  test('startIoc rejects with IocStartError on timeout and kills the process', async () => {
    const script = `console.log('Starting iocInit'); setInterval(() => {}, 1000);`;
    await assert.rejects(
      startIoc({ command: [process.execPath, '-e', script], timeout: 0.5 }),
      (err: unknown) => err instanceof IocStartError && /within 0\.5 s/.test(err.message),
    );
  });
});

describe('peers', () => {
  test('locatePeers names what is missing or finds all three', () => {
    const { peers, reason } = locatePeers();
    if (peers) {
      assert.match(peers.libca, /libca\.so\.4/);
      assert.equal(peers.python, '/usr/bin/python3');
    } else {
      assert.match(reason ?? '', /install-peers\.sh/);
    }
  });

  test('missing peers: skip with the reason, but throw when CI=true (CI must not skip interop)', () => {
    const missing = locatePeers({
      python: '/nonexistent/python3',
      pyepicsPath: '/nonexistent',
      libca: '/nonexistent.so',
    });
    assert.equal(missing.peers, undefined);
    assert.match(missing.reason ?? '', /libca4\.13\.5.*\/nonexistent\/python3.*pyepics in \/nonexistent/);
    const saved = process.env.CI;
    try {
      delete process.env.CI;
      assert.equal(peersSkipReason(missing), missing.reason);
      const skipped: string[] = [];
      assert.equal(requirePeers({ skip: (m) => skipped.push(m ?? '') }, missing), undefined);
      assert.deepEqual(skipped, [missing.reason]);
      process.env.CI = 'true';
      assert.throws(() => peersSkipReason(missing), PeersMissingError);
      assert.throws(() => requirePeers(undefined, missing), PeersMissingError);
    } finally {
      if (saved === undefined) delete process.env.CI;
      else process.env.CI = saved;
    }
  });

  const skip = peersSkipReason();

  test('runPyepics runs Debian python with pyepics over libca and returns JSON', { skip }, async () => {
    const r = await runPyepicsJson<{
      libca: string;
      version: string;
      exe: string;
      addr: string;
      nan: unknown;
    }>(
      `
from common import *
import os
emit(dict(libca=ca.find_libca(), version=epics.__version__, exe=sys.executable,
          addr=os.environ.get('EPICS_CA_ADDR_LIST'), nan=float('nan')))
`,
      { EPICS_CA_ADDR_LIST: '127.0.0.1' },
    );
    assert.match(r.libca, /libca\.so\.4/);
    assert.match(r.version, /^3\./);
    assert.equal(r.exe, '/usr/bin/python3');
    assert.equal(r.addr, '127.0.0.1');
    assert.equal(r.nan, 'NaN');
  });

  test('runPyepics reports exit code, stderr and timeouts', { skip }, async () => {
    const r = await runPyepics('import sys; sys.stderr.write("boom\\n"); sys.exit(4)');
    assert.equal(r.code, 4);
    assert.equal(r.stderr, 'boom\n');
    const slow = await runPyepics('import time; time.sleep(30)', {}, { timeout: 0.5 });
    assert.equal(slow.timedOut, true);
    assert.equal(slow.signal, 'SIGKILL');
    assert.ok(slow.seconds < 5);
    killAllPython();
  });
});
