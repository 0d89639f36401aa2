/**
 * Save and restore PVs with an autosave request file (synApps .req / .sav formats).
 *
 *   node dist/examples/autosave-roundtrip.js
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { autosave, closeClient } from '../src/devices/index.js';

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tsepics-autosave-'));
  writeFileSync(
    join(dir, 'station.req'),
    '# one classroom station\n$(P)str1\n$(P)str2\n$(P)bo1\n$(P)dwave\nfile "motor.req" M=sim:mtr1\n',
  );
  writeFileSync(join(dir, 'motor.req'), '$(M).VELO\n$(M).TWV\n$(M).HLM\n$(M).LLM\n');
  const sav = join(dir, 'station.sav');
  const saved = await autosave.saveState(join(dir, 'station.req'), sav, { macros: { P: 'id01:' } });
  console.log(
    `saved ${saved.saved}/${saved.total}`,
    saved.failed.length ? `(failed: ${saved.failed.join(' ')})` : '',
  );
  console.log(readFileSync(sav, 'utf8'));
  const restored = await autosave.restoreState(sav, { wait: true });
  console.log(`restored ${restored.restored}/${restored.total}`, restored.failed);
}

main()
  .catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  })
  .finally(() => closeClient());
