/**
 * The demo / classroom database (the exercise set of M. Newville's 2014 pyepics talk): 36 prefixes
 * `id01:`..`id36:`, each with
 *
 *   bi1                a binary that flips randomly (every 2 s)
 *   dbl1 dbl2 dbl3     three doubles updating randomly (random walks, 0.5 / 1 / 2 s)
 *   int1 int2 int3     three integers updating randomly (1 / 2 / 5 s)
 *   str1 str2          two strings (stringout, writable)
 *   bo1                a 0/1 binary (Off/On)
 *   mbbi1              a multi-bit binary (enum: Idle Acquire Readout Correct Error)
 *   filename           a 128-char byte waveform holding a (long) file name
 *   dwave              a 256-double waveform
 *   iwave              a 256-integer waveform
 *   image              a 65536-byte waveform
 *
 * plus simulated motors `sim:mtr1`..`sim:mtr6` (the names pyepics' tests use), a scaler
 * `sim:scaler1`, an mca `sim:mca1`, a SIS3820 multi-channel scaler `sim:SIS1:` (see struck.ts) and a
 * transform record `sim:userTran1` when the IOC has those record types. Initial array / string
 * contents are given by `demoInitialValues()` (written after iocInit).
 */

import { struckDatabase } from './struck.js';

export interface DemoOptions {
  /** Number of idNN prefixes (default 36). */
  count?: number;
  /** Simulated motors sim:mtr1..N (default 6; 0 for none). */
  motors?: number;
  /** Include sim:scaler1 (default true). */
  scaler?: boolean;
  /** Include sim:mca1 (default true). */
  mca?: boolean;
  /** Prefix of the motors/scaler/mca (default 'sim:'). */
  simPrefix?: string;
  /** Include a simulated SIS3820 multi-channel scaler `<simPrefix>SIS1:` (8 mcas; default true). */
  struck?: boolean;
  /** Include a transform record `<simPrefix>userTran1` (default true). */
  transform?: boolean;
}

/** `id01`, `id02`, ... */
export function demoPrefix(i: number): string {
  return `id${String(i).padStart(2, '0')}`;
}

function rec(type: string, name: string, fields: Record<string, string | number>): string {
  const body = Object.entries(fields)
    .map(([k, v]) => `  field(${k}, "${String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}")`)
    .join('\n');
  return `record(${type}, "${name}") {\n${body}\n}\n`;
}

/** Records of one classroom prefix (`p` without the colon). */
export function classroomRecords(p: string): string {
  const out: string[] = [];
  out.push(
    rec('calc', `${p}:bi1_rnd`, { CALC: 'RNDM>0.5' }),
    rec('bi', `${p}:bi1`, {
      DESC: 'random binary',
      SCAN: '2 second',
      INP: `${p}:bi1_rnd PP`,
      ZNAM: 'Low',
      ONAM: 'High',
    }),
  );
  const dblScan = ['.5 second', '1 second', '2 second'];
  for (let i = 1; i <= 3; i++) {
    // a random walk around 10*i, clamped to [0, 100]
    out.push(
      rec('calc', `${p}:dbl${i}`, {
        DESC: `random double ${i}`,
        SCAN: dblScan[i - 1],
        PINI: 'YES',
        CALC: `MIN(100,MAX(0,(A=0?${10 * i}:A)+(RNDM-0.5)*${i}))`,
        INPA: `${p}:dbl${i} NPP`,
        PREC: 4,
        EGU: 'mm',
        HOPR: 100,
        LOPR: 0,
      }),
    );
  }
  const intScan = ['1 second', '2 second', '5 second'];
  const intRange = [10, 1000, 100000];
  for (let i = 1; i <= 3; i++) {
    out.push(
      rec('calc', `${p}:int${i}_rnd`, { CALC: `FLOOR(RNDM*${intRange[i - 1]})` }),
      rec('longin', `${p}:int${i}`, {
        DESC: `random integer ${i}`,
        SCAN: intScan[i - 1],
        PINI: 'YES',
        INP: `${p}:int${i}_rnd PP`,
        EGU: 'counts',
        HOPR: intRange[i - 1],
        LOPR: 0,
      }),
    );
  }
  out.push(
    rec('stringout', `${p}:str1`, { DESC: 'string 1', VAL: `Hello from ${p}` }),
    rec('stringout', `${p}:str2`, { DESC: 'string 2', VAL: 'EPICS string (max 40 chars)' }),
    rec('bo', `${p}:bo1`, { DESC: 'binary 0/1', ZNAM: 'Off', ONAM: 'On', VAL: 0, PINI: 'YES' }),
    rec('mbbi', `${p}:mbbi1`, {
      DESC: 'multi-bit binary',
      ZRST: 'Idle',
      ONST: 'Acquire',
      TWST: 'Readout',
      THST: 'Correct',
      FRST: 'Error',
      ZRVL: 0,
      ONVL: 1,
      TWVL: 2,
      THVL: 3,
      FRVL: 4,
      VAL: 0,
      PINI: 'YES',
    }),
    rec('waveform', `${p}:filename`, { DESC: 'file name (byte waveform)', FTVL: 'UCHAR', NELM: 128 }),
    rec('waveform', `${p}:dwave`, { DESC: '256 doubles', FTVL: 'DOUBLE', NELM: 256, PREC: 4 }),
    rec('waveform', `${p}:iwave`, { DESC: '256 integers', FTVL: 'LONG', NELM: 256 }),
    rec('waveform', `${p}:image`, { DESC: '65536 bytes', FTVL: 'UCHAR', NELM: 65536 }),
  );
  return out.join('');
}

/** A simulated motor record with sensible defaults. */
export function motorRecord(name: string, i: number): string {
  const able = rec('bo', `${name}_able`, {
    DESC: `${name} enable`,
    ZNAM: 'Enable',
    ONAM: 'Disable',
    VAL: 0,
    PINI: 'YES',
  });
  return (
    able +
    rec('motor', name, {
      DESC: `simulated motor ${i}`,
      EGU: 'mm',
      PREC: 4,
      MRES: 0.0001,
      VELO: 5,
      VBAS: 0.5,
      VMAX: 20,
      ACCL: 0.1,
      DHLM: 100,
      DLLM: -100,
      HLM: 100,
      LLM: -100,
      TWV: 0.5,
      RDBD: 0.0002,
    })
  );
}

export function scalerRecord(name: string): string {
  return rec('scaler', name, {
    DESC: 'simulated scaler',
    FREQ: 1e7,
    TP: 1,
    NM1: 'clock',
    NM2: 'I0',
    NM3: 'I1',
    NM4: 'It',
    NM5: 'If',
    NM6: 'ch6',
    NM7: 'ch7',
    NM8: 'ch8',
  });
}

export function mcaRecord(name: string): string {
  return rec('mca', name, {
    DESC: 'simulated mca',
    NMAX: 2048,
    NUSE: 2048,
    CALO: 0,
    CALS: 0.01,
    CALQ: 0,
    EGU: 'keV',
    PRTM: 1,
  });
}

/** A transform record (synApps userTransform) with empty rows and PREC 4. */
export function transformRecord(name: string): string {
  return rec('transform', name, { DESC: 'user transform', PREC: 4, COPT: 'Conditional' });
}

/** The whole demo database as .db text. `recordTypes` limits it to types the IOC knows. */
export function demoDatabase(opts: DemoOptions = {}, recordTypes?: readonly string[]): string {
  const count = opts.count ?? 36;
  if (!Number.isInteger(count) || count < 0 || count > 99)
    throw new RangeError(`demo prefix count must be 0..99, got ${count}`);
  const has = (t: string): boolean => !recordTypes || recordTypes.includes(t);
  const sim = opts.simPrefix ?? 'sim:';
  const parts: string[] = ['# tsepics demo database (generated)\n'];
  for (let i = 1; i <= count; i++) parts.push(classroomRecords(demoPrefix(i)));
  const motors = opts.motors ?? 6;
  if (has('motor')) for (let i = 1; i <= motors; i++) parts.push(motorRecord(`${sim}mtr${i}`, i));
  if ((opts.scaler ?? true) && has('scaler')) parts.push(scalerRecord(`${sim}scaler1`));
  if ((opts.mca ?? true) && has('mca')) parts.push(mcaRecord(`${sim}mca1`));
  if ((opts.struck ?? true) && has('mca') && has('dfanout'))
    parts.push(struckDatabase(`${sim}SIS1:`, { nchan: 8, nuse: 1024 }));
  if ((opts.transform ?? true) && has('transform')) parts.push(transformRecord(`${sim}userTran1`));
  return parts.join('\n');
}

/** Initial contents written after iocInit: file names, waveforms, image bytes. */
export function demoInitialValues(
  opts: DemoOptions = {},
): Array<[string, string | number[] | Float64Array | Int32Array | Uint8Array]> {
  const count = opts.count ?? 36;
  const out: Array<[string, string | number[] | Float64Array | Int32Array | Uint8Array]> = [];
  for (let i = 1; i <= count; i++) {
    const p = demoPrefix(i);
    const fname = `/data/epicsclass/${p}/2014Oct24/scan_${p}_sample_with_a_long_descriptive_name_001.dat`;
    const bytes = new Uint8Array(fname.length + 1);
    for (let k = 0; k < fname.length; k++) bytes[k] = fname.charCodeAt(k);
    out.push([`${p}:filename`, bytes]);
    const d = new Float64Array(256);
    const n = new Int32Array(256);
    for (let k = 0; k < 256; k++) {
      d[k] = Math.sin((2 * Math.PI * k * i) / 256) * 10;
      n[k] = (k * i) % 1000;
    }
    out.push([`${p}:dwave`, d], [`${p}:iwave`, n]);
    const img = new Uint8Array(65536);
    for (let y = 0; y < 256; y++) for (let x = 0; x < 256; x++) img[y * 256 + x] = (x ^ y ^ i) & 0xff;
    out.push([`${p}:image`, img]);
  }
  return out;
}
