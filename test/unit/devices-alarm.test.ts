import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Alarm, AlarmError, resolveComparison, type AlarmEvent } from '../../src/devices/alarm.js';
import { FakePvNetwork } from '../../src/devices/testing.js';

function setup(comparison: Parameters<typeof resolveComparison>[0], tripPoint: unknown, alertDelay = 10) {
  const net = new FakePvNetwork();
  let t = 1000;
  net.now = () => t;
  net.define('X:long1', 0);
  const events: AlarmEvent[] = [];
  const alarm = new Alarm({
    pvname: 'X:long1',
    comparison,
    tripPoint,
    alertDelay,
    callback: (e) => events.push(e),
    pvFactory: net.factory,
    clock: () => t,
  });
  return {
    net,
    alarm,
    events,
    advance: (s: number) => {
      t += s;
    },
  };
}

test('fires on crossing into the tripped state, not while staying tripped', () => {
  const { net, events, advance } = setup('ge', 7);
  for (const v of [1, 5, 6]) net.set('X:long1', v);
  assert.equal(events.length, 0);
  net.set('X:long1', 7);
  assert.equal(events.length, 1);
  assert.equal(events[0].value, 7);
  assert.equal(events[0].tripPoint, 7);
  assert.equal(events[0].comparison, 'ge');
  assert.equal(events[0].pvname, 'X:long1');
  advance(100);
  net.set('X:long1', 8);
  net.set('X:long1', 9);
  assert.equal(events.length, 1, 'staying tripped does not fire');
  net.set('X:long1', 2);
  net.set('X:long1', 9);
  assert.equal(events.length, 2, 'leaving and re-entering fires again after the delay');
});

test('alertDelay: a re-entry within the delay is swallowed', () => {
  const { net, events, advance } = setup('>', 7, 10);
  net.set('X:long1', 8);
  advance(3);
  net.set('X:long1', 0);
  net.set('X:long1', 8);
  assert.equal(events.length, 1);
  advance(8); // 11 s after the first alert, but still tripped: no new transition
  net.set('X:long1', 9);
  assert.equal(events.length, 1);
  net.set('X:long1', 0);
  net.set('X:long1', 9);
  assert.equal(events.length, 2);
});

test('reset, clear, comparison names, custom function, string values', () => {
  const { net, alarm, events } = setup('__lt__', 0, 0);
  net.set('X:long1', -1);
  assert.equal(events.length, 1);
  alarm.reset();
  assert.equal(alarm.alarmState, false);
  assert.equal(alarm.lastAlert, 0);
  net.set('X:long1', -2);
  assert.equal(events.length, 2, 'after reset the tripped value counts as a new crossing');
  alarm.clear();
  net.set('X:long1', 5);
  net.set('X:long1', -5);
  assert.equal(events.length, 2, 'cleared alarm no longer watches');

  for (const [c, name] of [
    ['==', 'eq'],
    ['!=', 'ne'],
    ['<=', 'le'],
    ['<', 'lt'],
    ['>=', 'ge'],
    ['>', 'gt'],
  ] as const) {
    assert.equal(resolveComparison(c).name, name);
  }
  assert.equal(resolveComparison('gt').fn(8, 7), true);
  assert.equal(resolveComparison('gt').fn(7, 7), false);
  assert.equal(resolveComparison('eq').fn('Open', 'Open'), true);
  assert.equal(resolveComparison('ne').fn('Open', 'Closed'), true);
  assert.equal(resolveComparison('le').fn('3', 10), true, 'numeric strings compare as numbers');
  assert.throws(() => resolveComparison('approx' as never), AlarmError);

  const s = setup((v, tp) => Math.abs((v as number) - (tp as number)) < 0.5, 3, 0);
  s.net.set('X:long1', 3.2);
  assert.equal(s.events.length, 1);
});

test('bad arguments throw AlarmError; default callback writes a line; already tripped PV fires', () => {
  const net = new FakePvNetwork().define('X:v', 10);
  assert.throws(
    () => new Alarm({ pvname: '', comparison: 'gt', tripPoint: 1, pvFactory: net.factory }),
    AlarmError,
  );
  assert.throws(
    () => new Alarm({ pvname: 'X:v', comparison: 'gt', tripPoint: undefined, pvFactory: net.factory }),
    AlarmError,
  );
  assert.throws(
    () =>
      new Alarm({ pvname: 'X:v', comparison: 'gt', tripPoint: 1, alertDelay: -1, pvFactory: net.factory }),
    AlarmError,
  );
  const lines: string[] = [];
  const a = new Alarm({
    pvname: 'X:v',
    comparison: 'gt',
    tripPoint: 5,
    pvFactory: net.factory,
    writer: (l) => lines.push(l),
  });
  assert.equal(lines.length, 1);
  assert.match(lines[0], /^Alarm: X:v=10 \(/);
  assert.equal(String(a), "<Alarm pvname='X:v', comp='gt', tripPoint=5>");
});

test('alertDelay 0: every crossing fires, even within the same clock tick', () => {
  const { net, events } = setup('eq', 1, 0);
  net.set('X:long1', 1);
  net.set('X:long1', 0);
  net.set('X:long1', 1);
  net.set('X:long1', 1);
  assert.equal(events.length, 2);
});
