/**
 * A client context's registration with the CA repeater (ca-protocol.md §11), as libca does it: a
 * zero-length datagram from the search socket to the repeater port on 127.0.0.1, repeated until the
 * REPEATER_CONFIRM arrives (after 0.2 s, then every second, at most 50 times); when the first try is
 * not confirmed, `tsepics repeater` is started as a detached process (libca spawns caRepeater).
 */
import type dgram from 'node:dgram';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

export class RepeaterRegistration {
  private confirmedFlag = false;
  private timer: NodeJS.Timeout | undefined;
  private tries = 0;
  private spawned = false;

  /**
   * @param env the context's environment (given to a started repeater)
   * @param port the repeater port (EPICS_CA_REPEATER_PORT)
   * @param socket the ready search socket, or undefined once the context is closed
   */
  constructor(
    private readonly env: Readonly<Record<string, string | undefined>>,
    private readonly port: number,
    private readonly socket: () => dgram.Socket | undefined,
  ) {}

  /** Whether the repeater confirmed the registration (beacons will arrive). */
  get confirmed(): boolean {
    return this.confirmedFlag;
  }

  /** Send a registration, and again until confirmed (a repeater is started after the first). */
  register(): void {
    const udp = this.socket();
    if (this.confirmedFlag || !udp) return;
    this.tries++;
    // libca registers with a zero-length datagram from the search socket.
    udp.send(Buffer.alloc(0), this.port, '127.0.0.1', () => {
      /* ignore */
    });
    const delay = this.tries === 1 ? 200 : 1000;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.confirmedFlag || !this.socket()) return;
      if (!this.spawned) {
        this.spawned = true;
        this.spawn();
      }
      if (this.tries < 50) this.register();
    }, delay);
    this.timer.unref();
  }

  /** REPEATER_CONFIRM arrived. */
  confirm(): void {
    this.confirmedFlag = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Stop retrying (the context closes). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  /** Start `tsepics repeater` as a detached process, as libca spawns caRepeater. */
  private spawn(): void {
    // child_process is loaded only when a repeater must be started (start-up cost of short tools)
    import('node:child_process').then(
      ({ spawn }) => this.spawnWith(spawn),
      () => undefined,
    );
  }

  private spawnWith(spawn: typeof import('node:child_process').spawn): void {
    try {
      const script = fileURLToPath(new URL('../cli/repeater.js', import.meta.url));
      if (!fs.existsSync(script)) return;
      const env: NodeJS.ProcessEnv = {
        ...this.env,
        EPICS_CA_REPEATER_PORT: String(this.port),
      };
      const child = spawn(process.execPath, [script, '-p', String(this.port), '--idle-exit', '60'], {
        detached: true,
        stdio: 'ignore',
        env,
      });
      child.on('error', () => {
        /* no repeater: beacons just won't arrive */
      });
      child.unref();
    } catch {
      /* ignore */
    }
  }
}
