/**
 * Conformance with EPICS base, without EPICS base: every case in test/fixtures/conformance/NAME.json
 * was recorded by running EPICS base's C catools (caget/caput/cainfo/camonitor) against EPICS base's
 * softIoc on NAME.db (see the README there). Here the same commands run, in the same order, as
 * `tsepics <tool>` against `tsepics ioc -d NAME.db`: exit status, stdout and stderr must equal the
 * recording after normalizeOutput() (timestamps, ports and host names). So both the IOC (issue 2)
 * and the command line tools (issue 3) are checked against the real thing in one go.
 */
import { describe, it } from 'node:test';
import { replayConformance as runSuite } from '../helpers/conformance.js';

describe(
  'tsepics catools + tsepics ioc print what EPICS base catools + softIoc print',
  { concurrency: true },
  () => {
    it('analog, binary and calc records: reads of every DBR type, fields, puts, alarms, monitors', () =>
      runSuite('records.db', 'records.expected.json'));
    it('mbbi/mbbo, long, string, waveforms of every FTVL, subArray, fanout, calcout, aliases', () =>
      runSuite('arrays.db', 'arrays.expected.json'));
    it('waveform FTVL=ENUM (no enum strings: string reads fail once it has elements)', () =>
      runSuite('enum-waveform.db', 'enum-waveform.expected.json'));
    it('calc/calcout A..L metadata from input links, UDF severities, mbbo SDEF/RVAL', () =>
      runSuite('metadata.db', 'metadata.expected.json'));
    it('macros with defaults, conversions, calc functions, calcout OOPT/DOPT, subArray, fanout', () =>
      runSuite('misc.db', 'misc.expected.json'));
    it('.db syntax: unquoted values, record("*"), grecord, aliases, info, octal/hex, nan/inf, big enums', () =>
      runSuite('parser.db', 'parser.expected.json'));
    it('command line errors: usage, bad options, unknown PVs, timeouts, refused writes', () =>
      runSuite('records.db', 'cli-errors.expected.json'));
  },
);
