/**
 * A simulated SIS3801/SIS3820 multi-channel scaler (synApps mca module's SIS38XX database) built
 * from ordinary records, with the PV names pyepics' `epics.devices.Struck` (and our `Struck`) use:
 *
 *   <P>mca1..<P>mcaN     one simulated mca record per input channel (NUSE channels each)
 *   <P>EraseStart        bo: erase and start every mca (ERST)
 *   <P>StartAll          bo: start every mca (STRT)
 *   <P>StopAll           bo: stop every mca (STOP)
 *   <P>EraseAll          bo: erase every mca (ERAS)
 *   <P>ReadAll           bo: read every mca (READ); <P>DoReadAll bo processes it
 *   <P>PresetReal        ao: real-time preset of every mca (PRTM, s; 0 = none)
 *   <P>Dwell             ao: dwell time per channel of every mca (DWEL, s)
 *   <P>NuseAll           longout: channels used by every mca (NUSE)
 *   <P>ChannelAdvance    mbbo Internal/External: every mca's CHAS
 *   <P>Prescale          longout: every mca's PSCL
 *   <P>CountOnStart, <P>SoftwareChannelAdvance (bo), <P>Channel1Source (mbbo)
 *   <P>Acquiring         bi: <P>mca1.ACQG (Done/Acquiring)
 *   <P>ElapsedReal       ai: <P>mca1.ERTM
 *   <P>CurrentChannel    longin: <P>mca1.NORD
 *   <P>Model, <P>Firmware
 *
 * The "all" controls write every mca through chained dfanout records (seven mcas per dfanout, the
 * eighth output feeding the next dfanout). The mca records are the PHA simulation of
 * records/mca.ts (each channel accumulates counts while acquiring, stops at PresetReal).
 */

export interface StruckDbOptions {
  /** Number of input channels (mca records), 1..32 (default 8). */
  nchan?: number;
  /** Channels per mca (NMAX and initial NUSE; default 2048). */
  nuse?: number;
  /** Model: 'SIS3801' or 'SIS3820' (default). */
  model?: 'SIS3801' | 'SIS3820';
  /** Also a scaler record `<P>scaler1` (default false). */
  scaler?: boolean;
}

function rec(type: string, name: string, fields: Record<string, string | number>): string {
  const body = Object.entries(fields)
    .map(([k, v]) => `  field(${k}, "${String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}")`)
    .join('\n');
  return `record(${type}, "${name}") {\n${body}\n}\n`;
}

/** dfanout chain writing `<P>mca<i>.<field>` for every channel; returns [records, head record name]. */
function fanChain(p: string, control: string, field: string, nchan: number): [string, string] {
  const out: string[] = [];
  const per = 7;
  const nfan = Math.max(1, Math.ceil(nchan / per));
  for (let f = 0; f < nfan; f++) {
    const fields: Record<string, string | number> = {};
    for (let k = 0; k < per; k++) {
      const ch = f * per + k + 1;
      if (ch > nchan) break;
      fields[`OUT${'ABCDEFG'[k]}`] = `${p}mca${ch}.${field} PP`;
    }
    if (f + 1 < nfan) fields.OUTH = `${p}${control}_fan${f + 2}.VAL PP`;
    out.push(rec('dfanout', `${p}${control}_fan${f + 1}`, fields));
  }
  return [out.join(''), `${p}${control}_fan1`];
}

/** The simulated SIS38XX database for prefix `prefix` (a trailing ':' is added when missing). */
export function struckDatabase(prefix: string, opts: StruckDbOptions = {}): string {
  const p = prefix.endsWith(':') ? prefix : `${prefix}:`;
  const nchan = opts.nchan ?? 8;
  const nuse = opts.nuse ?? 2048;
  if (!Number.isInteger(nchan) || nchan < 1 || nchan > 32)
    throw new RangeError(`struck channel count must be 1..32, got ${nchan}`);
  if (!Number.isInteger(nuse) || nuse < 1 || nuse > 1 << 20)
    throw new RangeError(`struck channels per mca must be 1..1048576, got ${nuse}`);
  const out: string[] = [`# simulated ${opts.model ?? 'SIS3820'} multi-channel scaler ${p} (generated)\n`];
  for (let i = 1; i <= nchan; i++) {
    out.push(
      rec('mca', `${p}mca${i}`, {
        DESC: `SIS channel ${i}`,
        DTYP: 'Struck STR7201 MCS',
        NMAX: nuse,
        NUSE: nuse,
        MODE: 'MCS',
        DWEL: 0.001,
        EGU: 'counts',
        CALS: 1,
      }),
    );
  }
  const bo = (name: string, field: string, znam: string, onam: string): void => {
    const [fan, head] = fanChain(p, name, field, nchan);
    out.push(fan, rec('bo', `${p}${name}`, { ZNAM: znam, ONAM: onam, OUT: `${head}.VAL PP` }));
  };
  bo('EraseStart', 'ERST', 'Done', 'Erase&Start');
  bo('StartAll', 'STRT', 'Done', 'Start');
  bo('StopAll', 'STOP', 'Done', 'Stop');
  bo('EraseAll', 'ERAS', 'Done', 'Erase');
  bo('ReadAll', 'READ', 'Done', 'Read');
  out.push(rec('bo', `${p}DoReadAll`, { ZNAM: 'Done', ONAM: 'Read', OUT: `${p}ReadAll.VAL PP` }));
  const num = (
    type: 'ao' | 'longout',
    name: string,
    field: string,
    extra: Record<string, string | number>,
  ): void => {
    const [fan, head] = fanChain(p, name, field, nchan);
    out.push(fan, rec(type, `${p}${name}`, { ...extra, OUT: `${head}.VAL PP` }));
  };
  num('ao', 'PresetReal', 'PRTM', { PREC: 3, EGU: 'sec' });
  num('ao', 'Dwell', 'DWEL', { PREC: 6, EGU: 'sec', VAL: 0.001, PINI: 'YES' });
  num('longout', 'NuseAll', 'NUSE', { VAL: nuse, DRVH: nuse, DRVL: 1 });
  num('longout', 'Prescale', 'PSCL', { VAL: 1, DRVL: 1, DRVH: 1 << 24 });
  {
    const [fan, head] = fanChain(p, 'ChannelAdvance', 'CHAS', nchan);
    out.push(
      fan,
      rec('mbbo', `${p}ChannelAdvance`, {
        ZRST: 'Internal',
        ONST: 'External',
        ZRVL: 0,
        ONVL: 1,
        OUT: `${head}.VAL PP`,
      }),
    );
  }
  out.push(
    rec('bo', `${p}CountOnStart`, { ZNAM: 'No', ONAM: 'Yes' }),
    rec('bo', `${p}SoftwareChannelAdvance`, { ZNAM: 'Done', ONAM: 'Advance' }),
    rec('mbbo', `${p}Channel1Source`, { ZRST: 'Int. clock', ONST: 'External', ZRVL: 0, ONVL: 1 }),
    rec('bi', `${p}Acquiring`, { INP: `${p}mca1.ACQG CP`, ZNAM: 'Done', ONAM: 'Acquiring' }),
    rec('ai', `${p}ElapsedReal`, { INP: `${p}mca1.ERTM CP`, PREC: 3, EGU: 'sec' }),
    rec('longin', `${p}CurrentChannel`, { INP: `${p}mca1.NORD CP` }),
    rec('mbbi', `${p}Model`, {
      ZRST: 'SIS3801',
      ONST: 'SIS3820',
      ZRVL: 0,
      ONVL: 1,
      VAL: opts.model === 'SIS3801' ? 0 : 1,
      PINI: 'YES',
    }),
    rec('longin', `${p}Firmware`, { VAL: 0x0112, PINI: 'YES' }),
  );
  if (opts.scaler)
    out.push(
      rec('scaler', `${p}scaler1`, {
        DESC: 'SIS scaler',
        FREQ: 5e7,
        TP: 1,
      }),
    );
  return out.join('\n');
}
