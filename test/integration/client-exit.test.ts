// A script that only uses the client exits by itself right after its last operation.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { CaRepeater } from '../../src/client/repeater.js';
import { FakeIoc, clientEnv, loadTracePvs } from './client-fake-ioc.js';

const contextUrl = new URL('../../src/client/context.js', import.meta.url).href;

function runScript(
  code: string,
  env: NodeJS.ProcessEnv,
): Promise<{ out: string; err: string; code: number | null; afterMarkMs: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let mark = 0;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!mark && out.includes('DONE')) mark = performance.now();
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 10000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ out, err, code, afterMarkMs: mark ? performance.now() - mark : Infinity });
    });
  });
}

describe('script exit', () => {
  let ioc: FakeIoc;
  let rep: CaRepeater;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    ioc = new FakeIoc(loadTracePvs(['get_records', 'monitor']));
    const port = await ioc.start();
    // A repeater of our own on the test's repeater port, so the child does not spawn one.
    rep = new CaRepeater({ port: port + 1, address: '127.0.0.1' });
    await rep.start();
    env = clientEnv(port);
  });
  after(async () => {
    await rep.close();
    await ioc.stop();
  });

  it('exits within 1 s after a get (default context, subscription left open)', async () => {
    const r = await runScript(
      `import { defaultContext } from ${JSON.stringify(contextUrl)};
       const ch = defaultContext().channel('T:ai');
       ch.subscribe({}, () => {});
       const r = await ch.get({ family: 2, timeout: 3 });
       console.log('VALUE', r.value[0]);
       console.log('DONE');`,
      env,
    );
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /VALUE 21.5/);
    assert.ok(r.afterMarkMs < 1000, `exited ${r.afterMarkMs.toFixed(0)} ms after the get`);
  });

  it('exits after a failed connection wait and after a put without wait', async () => {
    const r = await runScript(
      `import { Context } from ${JSON.stringify(contextUrl)};
       const ctx = new Context();
       const m = ctx.channel('T:missing');
       try { await m.waitForConnection(0.3); } catch (e) { console.log('ERR', e.name); }
       const ao = ctx.channel('T:ao');
       await ao.waitForConnection(2);
       await ao.put(new Float64Array([3.25]), { dbrType: 6 });
       console.log('DONE');`,
      env,
    );
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /ERR NotFoundError/);
    assert.ok(r.afterMarkMs < 1000, `exited ${r.afterMarkMs.toFixed(0)} ms after the put`);
  });
});
