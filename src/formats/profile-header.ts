// The header of a profile (what DHAT keeps at its top level: command, pid, units, end
// time) and heapscope's own record, as the formats without a place for them carry them
// along: a pprof comment, an extension of a .heapprofile. Reading them back gives the
// same profile header.

import type { HeapscopeMeta, Profile } from '../model/profile.js';

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
