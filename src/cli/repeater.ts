/**
 * `tsepics repeater [-p PORT] [--idle-exit SECONDS]`: run a CA repeater (like caRepeater). Exits 0
 * quietly when the port is already taken (another repeater runs).
 */
import { pathToFileURL } from 'node:url';
import { CaRepeater } from '../client/repeater.js';
import { readClientEnv } from '../client/env.js';

export async function repeaterMain(argv: string[]): Promise<number> {
  let port = readClientEnv(process.env).repeaterPort;
  let idle = 0;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-p' || a === '--port') {
      port = Number(argv[++i]);
    } else if (a === '--idle-exit') {
      idle = Number(argv[++i]);
    } else if (a === '-h' || a === '--help') {
      process.stdout.write('Usage: tsepics repeater [-p PORT] [--idle-exit SECONDS]\n');
      return 0;
    } else {
      process.stderr.write(`repeater: unknown argument ${a}\n`);
      return 2;
    }
  }
  if (!Number.isInteger(port) || port <= 0 || port > 0xffff) {
    process.stderr.write(`repeater: invalid port\n`);
    return 2;
  }
  if (!(idle >= 0)) {
    process.stderr.write(`repeater: invalid --idle-exit\n`);
    return 2;
  }
  return new Promise<number>((resolve) => {
    const rep = new CaRepeater({ port, idleExitSeconds: idle, onIdleExit: () => resolve(0) });
    void rep.start().then((ok) => {
      if (!ok) resolve(0); // another repeater owns the port
      const stop = (): void => {
        void rep.close().then(() => resolve(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  });
}

// Runnable directly (`node dist/src/cli/repeater.js`), as the client spawns it.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void repeaterMain(process.argv.slice(2)).then((code) => process.exit(code));
}
