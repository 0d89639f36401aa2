/**
 * `tsepics cainfo`: EPICS base's cainfo (channel state, host, access, native type, element count).
 */
import type { ToolIO } from './catools-backend.js';
import {
  CA_PRIORITY_MAX,
  DEFAULT_TIMEOUT,
  commonOption,
  connectPvs,
  defaultSettings,
} from './catools-common.js';
import { VERSION_TEXT, cainfoBlock, formatFixed } from './format.js';
import { getopt, scanUnsigned } from './getopt.js';

export function cainfoUsage(): string {
  return (
    '\nUsage: cainfo [options] <PV name> ...\n\n' +
    '  -h: Help: Print this message\n' +
    '  -V: Version: Show EPICS and CA versions\n' +
    'Channel Access options:\n' +
    `  -w <sec>:   Wait time, specifies CA timeout, default is ${formatFixed(DEFAULT_TIMEOUT, 6)} second(s)\n` +
    '  -s <level>: Call ca_client_status with the specified interest level\n' +
    `  -p <prio>:  CA priority (0-${CA_PRIORITY_MAX}, default 0=lowest)\n` +
    '\nExample: cainfo my_channel another_channel\n\n' +
    VERSION_TEXT
  );
}

/** Run cainfo with `args` (without the program name); resolves the exit status. */
export async function cainfoMain(args: readonly string[], io: ToolIO): Promise<number> {
  const st = defaultSettings(io);
  let statLevel = 0;
  const { options, operands } = getopt(args, ':nhVw:s:p:', { permute: true });
  for (const o of options) {
    const { opt, arg = '' } = o;
    switch (opt) {
      case 's': {
        const v = scanUnsigned(arg);
        if (v === undefined) {
          io.stderr(`'${arg}' is not a valid interest level - ignored. ('cainfo -h' for help.)\n`);
          statLevel = 0;
        } else {
          statLevel = v;
        }
        break;
      }
      default: {
        const stop = commonOption('cainfo', o, st, io, cainfoUsage);
        if (stop !== undefined) return stop;
      }
    }
  }
  if (!statLevel && operands.length < 1) {
    io.stderr("No pv name specified. ('cainfo -h' for help.)\n");
    return 1;
  }
  const backend = await io.backend();
  try {
    const chans = operands.length ? await connectPvs(backend, operands, st, io) : [];
    if (!chans) return 1;
    await backend.resolveHostNames?.(chans);
    if (statLevel) {
      // ca_client_status: a summary of this client's channels
      let s = `tsepics CA client, ${chans.length} channel(s)\n`;
      for (const c of chans) s += `    ${c.name} ${c.state} ${c.host}\n`;
      io.stdout(s);
      return 0;
    }
    let out = '';
    for (const c of chans) {
      out += cainfoBlock({
        name: c.name,
        state: c.state,
        host: c.host,
        readAccess: c.readAccess,
        writeAccess: c.writeAccess,
        nativeType: c.nativeType,
        elementCount: c.elementCount,
      });
    }
    io.stdout(out);
    return 0;
  } finally {
    await backend.close();
  }
}
