/**
 * The motor record's fields (motorRecord.dbd), the CA limits of its position/speed fields, and the
 * MSTA (motor.h), MIP (motorRecord.cc) and SPMG tables the simulation (motor.ts) uses.
 */
import { COMMON_FIELDS, defineFields, type FieldDef } from '../fields.js';
import { registerMenus, type SimHost } from './sim-framework.js';

registerMenus({
  motorDIR: ['Pos', 'Neg'],
  motorSET: ['Use', 'Set'],
  motorMODE: ['Position', 'Velocity'],
  motorUEIP: ['No', 'Yes'],
  motorSPMG: ['Stop', 'Pause', 'Move', 'Go'],
  motorFOFF: ['Variable', 'Frozen'],
  motorTORQ: ['Disable', 'Enable'],
  motorSTUP: ['OFF', 'ON', 'BUSY'],
  motorRMOD: ['Default', 'Arithmetic', 'Geometric', 'In-Position'],
  motorRSTM: ['Never', 'Always', 'NearZero', 'Conditional'],
  motorACCU: ['Use ACCL', 'Use ACCS'],
});

/** The motor record's own fields, as motorRecord.dbd declares them (fields.ts spec syntax). */
export const MOTOR_SPEC = `
VERS FLOAT ro init=1; OFF DOUBLE pp; FOFF MENU menu=motorFOFF; FOF SHORT; VOF SHORT; DIR MENU pp
menu=motorDIR; SET MENU menu=motorSET; SSET SHORT; SUSE SHORT; VELO DOUBLE; VBAS DOUBLE; VMAX DOUBLE; S
DOUBLE; SBAS DOUBLE; SMAX DOUBLE; ACCL DOUBLE init=0.2; ACCS DOUBLE; ACCU MENU menu=motorACCU; BDST
DOUBLE; BVEL DOUBLE; SBAK DOUBLE; BACC DOUBLE init=0.5; FRAC FLOAT init=1; OUT OUTLINK; CARD SHORT ro; RDBL
INLINK; DOL INLINK; OMSL MENU menu=menuOmsl; RLNK OUTLINK; SREV LONG pp init=200; UREV DOUBLE pp; MRES DOUBLE
pp; ERES DOUBLE pp; RRES DOUBLE; UEIP MENU pp menu=motorUEIP; URIP MENU pp menu=motorUEIP; PREC SHORT; EGU
STRING size=16; RHLM DOUBLE ro; RLLM DOUBLE ro; HLM DOUBLE pp; LLM DOUBLE pp; DHLM DOUBLE pp; DLLM DOUBLE pp;
HOPR DOUBLE; LOPR DOUBLE; HLS SHORT ro; LLS SHORT ro; RHLS SHORT ro; RLLS SHORT ro; HIHI DOUBLE pp; LOLO
DOUBLE pp; HIGH DOUBLE pp; LOW DOUBLE pp; HHSV MENU pp menu=menuAlarmSevr; LLSV MENU pp menu=menuAlarmSevr;
HSV MENU pp menu=menuAlarmSevr; LSV MENU pp menu=menuAlarmSevr; HLSV MENU pp menu=menuAlarmSevr; RDBD DOUBLE;
SPDB DOUBLE; RCNT SHORT ro; RTRY SHORT init=10; MISS SHORT ro; SPMG MENU pp menu=motorSPMG init=Go; LSPG MENU
ro menu=motorSPMG init=Go; STOP SHORT pp; HOMF SHORT pp; HOMR SHORT pp; JOGF SHORT pp; JOGR SHORT pp; TWF
SHORT pp; TWR SHORT pp; TWV DOUBLE; VAL DOUBLE pp; LVAL DOUBLE ro; DVAL DOUBLE pp; LDVL DOUBLE ro; RVAL LONG
pp; LRVL LONG ro; RLV DOUBLE pp; LRLV DOUBLE ro; RBV DOUBLE ro; DRBV DOUBLE ro; DIFF DOUBLE ro; RDIF LONG ro;
CDIR SHORT ro; RRBV LONG ro; RMP LONG ro; REP LONG ro; RVEL LONG ro; DMOV SHORT ro init=1; MOVN SHORT ro;
MSTA ULONG ro; LVIO SHORT ro init=1; TDIR SHORT ro; ATHM SHORT ro; PP SHORT ro init=0; MIP USHORT ro; MMAP
ULONG ro; NMAP ULONG ro; DLY DOUBLE; CBAK NOACCESS ro; PCOF DOUBLE init=0; ICOF DOUBLE init=0; DCOF DOUBLE
init=0; CNEN MENU pp menu=motorTORQ; INIT STRING size=40; PREM STRING size=40; POST STRING size=40; STOO
OUTLINK; DINP INLINK; RINP INLINK; JVEL DOUBLE; JAR DOUBLE; LOCK MENU menu=menuYesNo init=NO; NTM MENU
menu=menuYesNo init=YES; NTMF USHORT init=2; HVEL DOUBLE; STUP MENU pp menu=motorSTUP init=OFF; RMOD MENU
menu=motorRMOD init=Default; ADEL DOUBLE; MDEL DOUBLE; ALST DOUBLE ro; MLST DOUBLE ro; SYNC SHORT pp; IGSET
SHORT; RSTM MENU menu=motorRSTM init=NearZero`;

export const MOTOR_FIELDS: readonly FieldDef[] = defineFields(MOTOR_SPEC);

/** Common fields plus the motor fields (what a MemoryHost for a motor needs). */
export const MOTOR_ALL_FIELDS: readonly FieldDef[] = [...COMMON_FIELDS, ...MOTOR_FIELDS];

/** Fields whose CA metadata (limits) are user, dial or raw coordinates (get_graphic/control_double). */
export function motorLimitsFor(
  host: Pick<SimHost, 'num'>,
  field: string,
): { upper: number; lower: number } | undefined {
  switch (field) {
    case 'VAL':
    case 'RBV':
    case 'HLM':
    case 'LLM':
    case 'LVAL':
      return { upper: host.num('HLM'), lower: host.num('LLM') };
    case 'DVAL':
    case 'DRBV':
    case 'DHLM':
    case 'DLLM':
    case 'LDVL':
      return { upper: host.num('DHLM'), lower: host.num('DLLM') };
    case 'RVAL':
    case 'RRBV':
    case 'RMP':
    case 'REP':
      return { upper: host.num('RHLM'), lower: host.num('RLLM') };
    case 'VELO':
    case 'VBAS':
    case 'BVEL':
    case 'JVEL':
    case 'HVEL':
      return { upper: host.num('VMAX'), lower: host.num('VBAS') };
  }
  return undefined;
}

// MSTA bits (motor.h) and MIP bits (motorRecord.cc)
export const MSTA = {
  DIRECTION: 0x1, DONE: 0x2, PLUS_LS: 0x4, HOME_LS: 0x8, POSITION: 0x20, SLIP_STALL: 0x40, HOME: 0x80,
  PRESENT: 0x100, PROBLEM: 0x200, MOVING: 0x400, GAIN_SUPPORT: 0x800, COMM_ERR: 0x1000, MINUS_LS: 0x2000,
  HOMED: 0x4000,
} as const; // prettier-ignore
export const MIP = {
  JOGF: 0x1, JOGR: 0x2, HOMF: 0x8, HOMR: 0x10, MOVE: 0x20, RETRY: 0x40, MOVE_BL: 0x100, STOP: 0x200,
  DELAY_REQ: 0x400,
} as const; // prettier-ignore

export const SPMG_STOP = 0;
export const SPMG_PAUSE = 1;
export const SPMG_MOVE = 2;
export const SPMG_GO = 3;
