/**
 * Beacon reception bookkeeping and anomaly detection (ca-protocol.md §11), sans-I/O.
 */

export type BeaconVerdict =
  /** First beacon of a server, or a duplicate/out-of-order one: nothing to do. */
  | 'ignored'
  /** A normal beacon: the server's circuit watchdog may be restarted. */
  | 'normal'
  /** Late (≥ 1.25 × average): the circuit is suspicious. */
  | 'suspicious'
  /** A beacon anomaly: unresolved channels should be searched again soon. */
  | 'anomaly';

interface BeaconEntry {
  last: number;
  number: number;
  avg: number;
  count: number;
}

export class BeaconTracker {
  private readonly servers = new Map<string, BeaconEntry>();
  private readonly start: number;

  constructor(now: number) {
    this.start = now;
  }

  /** Forget a server (tests, or when its address goes away). */
  forget(key: string): void {
    this.servers.delete(key);
  }

  /** Record a beacon from server `key` ("ip:port") with `number` at time `now` (seconds). */
  beacon(key: string, number: number, minor: number, now: number): BeaconVerdict {
    const e = this.servers.get(key);
    if (!e) {
      this.servers.set(key, { last: now, number, avg: -1, count: 1 });
      return 'ignored';
    }
    if (minor >= 10) {
      const adv = (number - e.number) >>> 0;
      // Not advanced, backwards (within 256), or +2/+3 (duplicate routes): drop.
      if (adv === 0 || adv > 0xffffffff - 256 || adv === 2 || adv === 3) return 'ignored';
    }
    const interval = now - e.last;
    e.last = now;
    e.number = number;
    e.count++;
    if (e.avg < 0) {
      e.avg = interval;
      // Second beacon: an anomaly only if not longer than program start → first beacon.
      return interval <= now - interval - this.start ? 'anomaly' : 'normal';
    }
    let verdict: BeaconVerdict = 'normal';
    if (interval >= e.avg * 3.25) verdict = 'anomaly';
    else if (interval >= e.avg * 1.25) verdict = 'suspicious';
    else if (interval <= e.avg * 0.8) verdict = 'anomaly';
    e.avg = 0.125 * interval + 0.875 * e.avg;
    return verdict;
  }
}
