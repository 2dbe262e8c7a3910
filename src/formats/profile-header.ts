// The header of a profile (what DHAT keeps at its top level: command, pid, units, end
// time) and heapscope's own record, as the formats without a place for them carry them
// along: a pprof comment, an extension of a .heapprofile. Reading them back gives the
// same profile header.

import type { HeapscopeMeta, Profile } from '../model/profile.js';
import { isAmount, isCount, showValue, validateMeta } from '../model/validate.js';

export interface ProfileHeaderRecord {
  version: 1;
  mode: string;
  verb: string;
  cmd: string;
  pid: number;
  timeUnit: string;
  timeUnitLarge: string;
  endTime: number;
  meta?: HeapscopeMeta;
}

export function profileHeaderRecord(profile: Profile): ProfileHeaderRecord {
  return {
    version: 1,
    mode: profile.mode,
    verb: profile.verb,
    cmd: profile.cmd,
    pid: profile.pid,
    timeUnit: profile.timeUnit,
    timeUnitLarge: profile.timeUnitLarge,
    endTime: profile.endTime,
    ...(profile.heapscope ? { meta: profile.heapscope } : {}),
  };
}

/**
 * What is wrong with a header record read back from a file (a parsed JSON value), or
 * undefined when it can be used. Fields it does not have are left to the reader's defaults.
 */
export function headerRecordProblem(record: unknown): string | undefined {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    return `is ${showValue(record)}; wants an object`;
  }
  const r = record as Record<keyof ProfileHeaderRecord, unknown>;
  for (const k of ['mode', 'verb', 'cmd', 'timeUnit', 'timeUnitLarge'] as const) {
    if (r[k] !== undefined && typeof r[k] !== 'string') {
      return `"${k}" is ${showValue(r[k])}; wants a string`;
    }
  }
  if (r.pid !== undefined && !isCount(r.pid)) {
    return `"pid" is ${showValue(r.pid)}; wants a whole number from 0 to 2^53-1`;
  }
  if (r.endTime !== undefined && !isAmount(r.endTime)) {
    return `"endTime" is ${showValue(r.endTime)}; wants a finite number >= 0`;
  }
  if (r.meta !== undefined) return validateMeta(r.meta, 'meta')[0];
  return undefined;
}
