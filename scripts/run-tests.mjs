#!/usr/bin/env node
// Runs every compiled test file under dist/test/ with node's test runner and forwards its exit
// code. Node 20's `node --test` does not expand globs, so the files are listed here.
//
//   node scripts/run-tests.mjs                 all areas (unit, integration, interop, fault, ...)
//   node scripts/run-tests.mjs unit interop    only these areas (folders under dist/test/)
//   TEST_CONCURRENCY=1 node scripts/run-tests.mjs
//   TEST_TIMEOUT_S=60 node scripts/run-tests.mjs     per-test timeout (default 300 s)
//
// The output (TAP) ends with node's own summary lines (`# tests N`, `# pass N`, `# fail N`, ...).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const testRoot = path.join(root, 'dist', 'test');

/** Every *.test.js file under dir, sorted, depth first. */
function collect(dir) {
  const out = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...collect(p));
    else if (e.isFile() && e.name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

/** A compiled test whose .ts source is gone (deleted or renamed) must not run. */
function hasSource(jsFile) {
  const rel = path.relative(path.join(root, 'dist'), jsFile);
  const ts = path.join(root, rel.replace(/\.js$/, '.ts'));
  return existsSync(ts) && statSync(ts).isFile();
}

if (!existsSync(testRoot)) {
  console.error(`run-tests: ${path.relative(root, testRoot)} not found: build first (npm run build)`);
  process.exit(1);
}

const areas = process.argv.slice(2);
const dirs = areas.length ? areas.map((a) => path.join(testRoot, a)) : [testRoot];
const files = dirs.flatMap(collect).filter(hasSource);
if (files.length === 0) {
  console.error(
    `run-tests: no compiled test files under ${dirs.map((d) => path.relative(root, d)).join(', ')}`,
  );
  process.exit(1);
}

const concurrency = process.env.TEST_CONCURRENCY ?? '2';
// A test that hangs fails after this many seconds instead of stalling the whole run.
const timeoutS = Number(process.env.TEST_TIMEOUT_S ?? '300');
const args = [
  '--test',
  `--test-concurrency=${concurrency}`,
  `--test-timeout=${Math.round(timeoutS * 1000)}`,
  '--test-reporter=tap',
  ...files.map((f) => path.relative(root, f)),
];
console.log(`run-tests: ${files.length} test files, concurrency ${concurrency}`);
const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
const forward = (sig) => () => child.kill(sig);
process.on('SIGINT', forward('SIGINT'));
process.on('SIGTERM', forward('SIGTERM'));
child.on('exit', (code, signal) => {
  if (signal) {
    console.error(`run-tests: node --test killed by ${signal}`);
    process.exit(1);
  }
  process.exit(code ?? 1);
});
