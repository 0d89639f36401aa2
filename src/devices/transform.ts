/**
 * pyepics' Transform for the synApps userTransform (transform record): 16 rows A..P, each with a
 * value, input link, calc expression, output link and comment.
 */
import { Device, DeviceError } from './device.js';
import { recordName, type RecordDeviceOptions } from './records.js';

export const TRANSFORM_ROWS = 'ABCDEFGHIJKLMNOP'.split('');

export interface TransformRow {
  value: number;
  input: string;
  calc: string;
  output: string;
  comment: string;
}

export class Transform extends Device {
  constructor(prefix: string, opts: RecordDeviceOptions = {}) {
    const attrs = ['COPT', 'PREC'];
    for (const l of TRANSFORM_ROWS)
      attrs.push(l, `INP${l}`, `I${l}V`, `CLC${l}`, `OUT${l}`, `O${l}V`, `CMT${l}`, `C${l}V`, `L${l}`);
    super(recordName(prefix), { ...opts, delim: '.', attrs });
  }

  private row(row: string): string {
    const r = row.toUpperCase();
    if (!TRANSFORM_ROWS.includes(r)) throw new DeviceError(`transform row must be A..P, got '${row}'`);
    return r;
  }

  async getRow(row = 'A'): Promise<TransformRow> {
    const r = this.row(row);
    const [value, input, calc, output, comment] = await Promise.all([
      this.get(r),
      this.get(`INP${r}`),
      this.get(`CLC${r}`),
      this.get(`OUT${r}`),
      this.get(`CMT${r}`),
    ]);
    return {
      value: Number(value),
      input: String(input),
      calc: String(calc),
      output: String(output),
      comment: String(comment),
    };
  }

  async setRow(row: string, data: Partial<TransformRow>): Promise<void> {
    const r = this.row(row);
    const puts: Promise<number>[] = [];
    if (data.input !== undefined) puts.push(this.put(`INP${r}`, data.input, { wait: true }));
    if (data.calc !== undefined) puts.push(this.put(`CLC${r}`, data.calc, { wait: true }));
    if (data.output !== undefined) puts.push(this.put(`OUT${r}`, data.output, { wait: true }));
    if (data.comment !== undefined) puts.push(this.put(`CMT${r}`, data.comment, { wait: true }));
    await Promise.all(puts);
    if (data.value !== undefined) await this.put(r, data.value, { wait: true });
  }

  async setCalc(row: string, calc: string): Promise<void> {
    await this.put(`CLC${this.row(row)}`, calc, { wait: true });
  }

  async setComment(row: string, comment: string): Promise<void> {
    await this.put(`CMT${this.row(row)}`, comment, { wait: true });
  }

  async setInput(row: string, input: string): Promise<void> {
    await this.put(`INP${this.row(row)}`, input, { wait: true });
  }
}
