/**
 * Scanning: periodic scan lists (one timer per menuScan period, records in PHAS order), named
 * event scans (SCAN "Event" + EVNT), PINI at start. Timers are not unref'ed (an IOC must stay
 * alive while serving); stop() clears every one of them.
 */
import { SCAN_PERIODS } from './fields.js';
import type { DbRecord } from './record.js';

const SCAN_EVENT = 1;

export class ScanManager {
  private readonly periodic = new Map<number, DbRecord[]>();
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private readonly events = new Map<string, DbRecord[]>();
  private readonly where = new Map<DbRecord, { scan: number; evnt: string }>();
  private running = false;

  /** Put a record on the list its SCAN/EVNT/PHAS select (removing it from its old list). */
  update(rec: DbRecord): void {
    this.remove(rec);
    const scan = rec.num('SCAN');
    const evnt = rec.str('EVNT');
    if (SCAN_PERIODS[scan] !== undefined) {
      const list = this.periodic.get(scan) ?? [];
      list.push(rec);
      list.sort((a, b) => a.num('PHAS') - b.num('PHAS'));
      this.periodic.set(scan, list);
      if (this.running && !this.timers.has(scan)) this.startTimer(scan);
    } else if (scan === SCAN_EVENT && evnt) {
      const list = this.events.get(evnt) ?? [];
      list.push(rec);
      list.sort((a, b) => a.num('PHAS') - b.num('PHAS'));
      this.events.set(evnt, list);
    }
    this.where.set(rec, { scan, evnt });
  }

  remove(rec: DbRecord): void {
    const w = this.where.get(rec);
    if (!w) return;
    this.where.delete(rec);
    const p = this.periodic.get(w.scan);
    if (p) {
      const i = p.indexOf(rec);
      if (i >= 0) p.splice(i, 1);
      if (p.length === 0) {
        this.periodic.delete(w.scan);
        const t = this.timers.get(w.scan);
        if (t) clearInterval(t);
        this.timers.delete(w.scan);
      }
    }
    const e = this.events.get(w.evnt);
    if (e) {
      const i = e.indexOf(rec);
      if (i >= 0) e.splice(i, 1);
    }
  }

  private startTimer(scan: number): void {
    const period = SCAN_PERIODS[scan]! * 1000;
    const t = setInterval(() => {
      const list = this.periodic.get(scan);
      if (!list) return;
      for (const rec of [...list]) rec.scanProcess();
    }, period);
    this.timers.set(scan, t);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const scan of this.periodic.keys()) this.startTimer(scan);
  }

  stop(): void {
    this.running = false;
    for (const t of this.timers.values()) clearInterval(t);
    this.timers.clear();
  }

  /** post_event: process the records scanning on a named event. Returns how many were processed. */
  postEvent(name: string): number {
    const list = this.events.get(name);
    if (!list) return 0;
    for (const rec of [...list]) rec.scanProcess();
    return list.length;
  }
}
