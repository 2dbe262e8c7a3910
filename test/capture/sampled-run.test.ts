/**
 * The sampled session's bookkeeping on real session files: what it says of a process
 * whose sampled profile is there but cannot be read.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startSampledSession } from '../../src/capture/sampled-run.js';
import { tempDir } from '../helpers/heapscope.js';

describe('a sampled profile that cannot be read', () => {
  it('is reported missing with the command of its process and the reason', async () => {
    const session = tempDir();
    const argv = ['/usr/bin/node', 'worker.js', '--jobs', '2'];
    writeFileSync(
      join(session, '4343.0.started.json'),
      JSON.stringify({ pid: 4343, threadId: 0, argv }),
    );
    writeFileSync(join(session, '4343.0.end.heapprofile'), '{"head": {"callFrame": ');
    writeFileSync(
      join(session, '4343.0.end.meta.json'),
      JSON.stringify({ kind: 'end', pid: 4343, threadId: 0, argv }),
    );
    const run = startSampledSession({ session, outDir: tempDir(), command: ['npm', 'test'] });
    const { profiles, missing } = await run.finish();
    expect(profiles).toEqual([]);
    expect(missing).toHaveLength(1);
    expect(missing[0]).toMatchObject({
      pid: 4343,
      threadId: 0,
      cmd: '/usr/bin/node worker.js --jobs 2',
    });
    expect(missing[0]!.reason).toMatch(/^its sampled profile could not be read: /);
  });
});
