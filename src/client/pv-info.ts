/**
 * The PV.info report (pyepics' PV.info layout) and fmt_time.
 */
import { ALARM_STATUS_NAMES, SEVERITY_NAMES } from '../protocol/constants.js';
import { formatFixed, formatGeneral } from '../protocol/printf.js';
import { pyFloatRepr } from './pv-format.js';
import type { PV } from './pv.js';

/** pyepics' fmt_time: local "YYYY-MM-DD HH:MM:SS.fffff". */
export function fmtTime(t: number = Date.now() / 1000): string {
  const sec = Math.floor(t);
  let frac = Math.round(1e5 * (t - sec));
  let s = sec;
  if (frac >= 100000) {
    frac -= 100000;
    s += 1;
  }
  const d = new Date(s * 1000);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return (
    `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ` +
    `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}.${String(frac).padStart(5, '0')}`
  );
}

function pyValueText(v: unknown, native: number): string {
  if (typeof v === 'number')
    return native === 2 || native === 6 ? formatGeneral(v, 6) : String(Math.trunc(v));
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) return 'None';
  const a = v as ArrayLike<unknown>;
  const first = Array.from({ length: Math.min(5, a.length) }, (_x, i) => {
    const e = a[i];
    return typeof e === 'number'
      ? native === 2 || native === 6
        ? formatGeneral(e, 6)
        : String(e)
      : String(e);
  });
  return ` array  [${first.join(', ')}${a.length > 10 ? ', ....' : ''}]`;
}

/** The PV.info text (pyepics §4.7 layout). */
export function pvInfo(pv: PV): string {
  const { data, monitored, callbacks, native } = pv._infoData();
  const [mod, xtype] = data.typefull.includes('_') ? data.typefull.split('_', 2) : ['native', data.typefull];
  const out: string[] = [`== ${pv.pvname}  (${mod}_${xtype}) ==`];
  const line = (k: string, v: string): void => {
    out.push(`   ${k.padEnd(k.length > 14 ? 20 : 15)} = ${v}`);
  };
  line('value', pyValueText(data.value, native));
  const add = (k: string, v: unknown): void => {
    if (v === undefined || v === null) return;
    line(k, typeof v === 'number' && !Number.isInteger(v) ? String(v) : String(v));
  };
  if (data.charValue !== undefined) {
    // a list of strings prints as Python's str(list): ['a', 'b']
    const cv = Array.isArray(data.charValue)
      ? `[${data.charValue.map((x) => `'${x}'`).join(', ')}]`
      : data.charValue;
    line('char_value', `'${cv}'`);
  }
  add('count', data.count);
  add('nelm', data.nelm);
  add('type', data.type);
  add('units', data.units);
  add('precision', data.precision);
  add('host', data.host);
  add('access', data.access);
  add('monitor_delta', data.monitorDelta);
  add('status', data.status);
  if (data.status !== undefined) line('char_status', ALARM_STATUS_NAMES[data.status] ?? 'UNKNOWN');
  add('severity', data.severity);
  if (data.severity !== undefined) line('char_severity', SEVERITY_NAMES[data.severity] ?? 'UNKNOWN');
  if (data.timestamp !== undefined)
    line('timestamp', `${formatFixed(data.timestamp, 3)} (${fmtTime(data.timestamp)})`);
  if (data.posixseconds !== undefined) line('posixseconds', pyFloatRepr(data.posixseconds));
  add('nanoseconds', data.nanoseconds);
  // limits of integer types are Python ints ('0'), of FLOAT/DOUBLE floats ('0.0')
  const intLimits = native === 1 || native === 4 || native === 5;
  const lim = (k: string, v: number | undefined): void => {
    if (v !== undefined) line(k, intLimits && Number.isFinite(v) ? String(Math.trunc(v)) : pyFloatRepr(v));
  };
  lim('upper_ctrl_limit', data.upperCtrlLimit);
  lim('lower_ctrl_limit', data.lowerCtrlLimit);
  lim('upper_disp_limit', data.upperDispLimit);
  lim('lower_disp_limit', data.lowerDispLimit);
  lim('upper_alarm_limit', data.upperAlarmLimit);
  lim('lower_alarm_limit', data.lowerAlarmLimit);
  lim('upper_warning_limit', data.upperWarningLimit);
  lim('lower_warning_limit', data.lowerWarningLimit);
  if (data.enumStrs && data.enumStrs.length) {
    out.push('   enum strings: ');
    data.enumStrs.forEach((s, i) => out.push(`       ${i} = ${s}`));
  }
  if (monitored) out.push(`   PV is internally monitored, with ${callbacks} user-defined callbacks`);
  else out.push('   PV is NOT internally monitored');
  out.push('=============================');
  return out.join('\n');
}
