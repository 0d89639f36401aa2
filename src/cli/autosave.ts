/**
 * `tsepics autosave`: save PV values named by an autosave request file to a .sav file, or restore
 * a .sav file.
 *
 *   tsepics autosave save [-m P=X:,Q=Y] [-I dir] [-w sec] REQ SAV
 *   tsepics autosave restore [-w sec] [-c] SAV
 */
import { AutosaveError, parseMacros, restoreState, saveState } from '../devices/autosave/index.js';
import { MacroError } from '../devices/autosave/macros.js';
import type { PvFactory } from '../devices/pv-like.js';
import { getopt } from './getopt.js';

export interface AutosaveIo {
  stdout(s: string): void;
  stderr(s: string): void;
  /** PV factory (default: the client's PVs). */
  pvFactory?: PvFactory;
  /** Called when the command is done, to release the client (default: close the CA context). */
  cleanup?: () => Promise<void>;
}

export function autosaveUsage(): string {
  return `Usage: tsepics autosave save [-m macros] [-I dir] [-w sec] REQFILE SAVFILE
       tsepics autosave restore [-w sec] [-c] SAVFILE
Save the PVs named by an autosave request file (.req) to a .sav file, or write a .sav file's
values back to their PVs.
  -m macros  macro definitions for the request file, e.g. -m P=IOC:,M=m1
  -I dir     extra directory searched for included request files (repeatable)
  -w sec     connection / IO timeout in seconds (default 2)
  -c         restore: wait for each put to complete (put-callback)
  -h         this help
`;
}

async function defaultBackend(): Promise<{ factory: PvFactory; cleanup: () => Promise<void> }> {
  const m = await import('../devices/client-pv.js');
  return { factory: m.clientPvFactory, cleanup: m.closeClient };
}

/** Entry point for `tsepics autosave ARGS`; resolves to the exit status. */
export async function autosaveMain(argv: readonly string[], io?: Partial<AutosaveIo>): Promise<number> {
  const out = io?.stdout ?? ((s: string) => void process.stdout.write(s));
  const err = io?.stderr ?? ((s: string) => void process.stderr.write(s));
  const [sub, ...rest] = argv;
  if (sub === '-h' || sub === '--help' || sub === 'help') {
    out(autosaveUsage());
    return 0;
  }
  if (sub !== 'save' && sub !== 'restore') {
    err(
      `tsepics autosave: ${sub === undefined ? 'missing command' : `unknown command '${sub}'`} (save or restore)\n${autosaveUsage()}`,
    );
    return 1;
  }
  let macros: Record<string, string> = {};
  const searchPath: string[] = [];
  let timeout = 2;
  let wait = false;
  const { options, operands } = getopt(rest, ':hm:I:w:c', { permute: true });
  try {
    for (const o of options) {
      switch (o.opt) {
        case 'h':
          out(autosaveUsage());
          return 0;
        case 'm':
          macros = { ...macros, ...parseMacros(o.arg ?? '') };
          break;
        case 'I':
          searchPath.push(o.arg ?? '.');
          break;
        case 'w': {
          const t = Number(o.arg);
          if (!Number.isFinite(t) || t <= 0) throw new Error(`invalid timeout '${o.arg ?? ''}'`);
          timeout = t;
          break;
        }
        case 'c':
          wait = true;
          break;
        case ':':
          throw new Error(`option -${o.optopt} requires an argument`);
        default:
          throw new Error(`invalid option -${o.optopt ?? o.opt}`);
      }
    }
    const need = sub === 'save' ? 2 : 1;
    if (operands.length !== need)
      throw new Error(`${sub} needs ${need === 2 ? 'REQFILE and SAVFILE' : 'SAVFILE'}`);
  } catch (e) {
    err(`tsepics autosave: ${(e as Error).message}\n${autosaveUsage()}`);
    return 1;
  }
  let factory = io?.pvFactory;
  let cleanup = io?.cleanup;
  if (!factory) {
    const b = await defaultBackend();
    factory = b.factory;
    cleanup = cleanup ?? b.cleanup;
  }
  try {
    if (sub === 'save') {
      const r = await saveState(operands[0], operands[1], {
        macros,
        searchPath,
        timeout,
        pvFactory: factory,
      });
      out(`Saved ${r.saved} of ${r.total} PVs to ${r.savFile}\n`);
      for (const n of r.failed) err(`  not saved (not connected or get failed): ${n}\n`);
      return r.failed.length === 0 ? 0 : 2;
    }
    const r = await restoreState(operands[0], { timeout, wait, pvFactory: factory });
    out(`Restored ${r.restored} of ${r.total} PVs from ${operands[0]}\n`);
    for (const f of r.failed) err(`  not restored: ${f.pvname}: ${f.reason}\n`);
    return r.failed.length === 0 ? 0 : 2;
  } catch (e) {
    if (e instanceof AutosaveError || e instanceof MacroError) {
      err(`tsepics autosave: ${e.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    await cleanup?.();
  }
}
