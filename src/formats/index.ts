/** Format detection: the one place that decides how a profile file is read. */
import { promises as fs } from 'node:fs';
import type { Profile } from '../model/profile.js';
import { DhatFormatError, isDhat, readDhat } from './dhat.js';

export class ProfileReadError extends Error {
  override name = 'ProfileReadError';
}

export type ProfileFormat = 'dhat';

/** Reads a profile file of any format heapscope knows; throws ProfileReadError with the file name. */
export async function readProfileFile(
  path: string,
): Promise<{ profile: Profile; format: ProfileFormat }> {
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (e) {
    throw new ProfileReadError(
      `${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new ProfileReadError(
      `${path}: not a profile heapscope can read (not JSON: ${(e as Error).message}; truncated?)`,
    );
  }
  if (isDhat(data)) {
    try {
      return { profile: readDhat(data), format: 'dhat' };
    } catch (e) {
      if (e instanceof DhatFormatError) throw new ProfileReadError(`${path}: ${e.message}`);
      throw e;
    }
  }
  throw new ProfileReadError(
    `${path}: not a profile heapscope can read (no "dhatFileVersion" field)`,
  );
}
