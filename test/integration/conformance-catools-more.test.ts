/**
 * More conformance recordings (see test/fixtures/conformance/README.md): EPICS base 7.0.8's C catools
 * against softIoc on databases and commands written to find what the first recordings missed
 * (int64/lsi/lso/mbbDirect/aai/aao/sel/seq/dfanout records, number formatting at the edges, enum
 * state strings, links and scans, field access, large arrays, option parsing). Each command runs as
 * `tsepics <tool>` against `tsepics ioc -d NAME.db`; exit status, stdout and stderr must equal the
 * recording after normalization (the same rules as conformance-catools.test.ts).
 */
import { describe, it } from 'node:test';
import { replayConformance as replay } from '../helpers/conformance.js';

describe(
  'tsepics catools + tsepics ioc print what EPICS base catools + softIoc print (2)',
  { concurrency: 2 },
  () => {
    it('int64in/out, lsi/lso, mbbiDirect/mbboDirect, aai/aao, INT64/UINT64/UCHAR waveforms, sel, seq, dfanout', () =>
      replay('more-types.db', 'more-types.expected.json'));
    it('number formats: -e/-f/-g/-s/-lx/-0x at the edges (huge, tiny, -0, nan, inf, PREC 0/-5/20), puts of odd numbers', () =>
      replay('number-formats.db', 'number-formats.expected.json'));
    it('option parsing: glued/combined options, bad values, timeouts 0/negative, -d names, escapes, -S, -a counts', () =>
      replay('number-formats.db', 'cli-options.expected.json'));
    it('enum states: missing/partial strings, 16 states, severities, raw values, puts by name and number', () =>
      replay('enum-states.db', 'enum-states.expected.json'));
    it('links: PP/NPP/CP/MS/MSS/MSI, FLNK chains, disable, closed loop, periodic scans, aliases, info', () =>
      replay('links-scan.db', 'links-scan.expected.json'));
    it('field access: long strings ($), menus, internal and read-only fields, bad field names, string waveforms', () =>
      replay('field-access.db', 'field-access.expected.json'));
    it('arrays larger than EPICS_CA_MAX_ARRAY_BYTES: doubles, a 20000-char string, 500 strings', () =>
      replay('big-arrays.db', 'big-arrays.expected.json'));
    it('alarms: HIHI..LOLO/HYST, bi/bo/mbbi state severities, MS/NMS/MSI, disable; camonitor of periodic records with -m/-t/-n/-F', () =>
      replay('alarms.db', 'alarms.expected.json'));
    it('put callbacks: caput -c/-w with calcout ODLY and seq delays, -w 0, -n/-s/-l/-t/-p, enum and string puts', () =>
      replay('put-callback.db', 'put-callback.expected.json'));
    it('strings: quotes, escapes (also \\x in .db values), char waveforms with NULs / full / empty, -S/-#, STRING waveforms', () =>
      replay('strings.db', 'strings.expected.json'));
    it('record types: cainfo/caget of every record type and common field, UDF after processing, DTYP menus, strings read as ENUM', () =>
      replay('record-types.db', 'record-types.expected.json'));
    it('IOC fixes: lso OVAL, sel SELN, one-state bi/bo, mbbo without states, enum/rset limits, bo MASK 0, failing calc inputs, link text, units, DTYP', () =>
      replay('ioc-fixes.db', 'ioc-fixes.expected.json'));
  },
);
