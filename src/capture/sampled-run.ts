/**
 * heapscope's side of `run --sample`: while the command runs, each profile an agent
 * writes (sampled-agent.cts: a part on SIGUSR2, the final one at exit, on a fatal
 * signal or after `--duration`) becomes a DHAT file as soon as it is whole, so a
 * long-running program's profile is there while it still runs.
 *
 * Output names, beside exact mode's `heapscope.<pid>.json` / `heapscope.<pid>.<threadId>.json`:
 * the n-th SIGUSR2 profile of a process is `heapscope.<pid>-<n>.json` (`<out>-<n>.json`
 * with `--out <out>.json`). A dash, not a dot: `heapscope.<pid>.<n>.json` would be
 * taken for worker thread n.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { writeDhat } from '../formats/dhat.js';
import type { RawLocation } from '../model/frame.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { convertSampledProfile } from './sampled-convert.js';
import {
  commandOf,
  type MissingProfile,
  noProfileReason,
  OWN_SCRIPTS,
  readJson,
  type StartedFile,
  type WrittenProfile,
} from './session-files.js';

const isOwnFrame = (loc: RawLocation) => OWN_SCRIPTS.some((s) => loc.scriptName.endsWith(s));
/**
 * Where the agent listened to the debugger (Node 20, for script URLs), node:inspector
 * parses each of its messages before the agent's handler runs: that is heapscope's work
 * too. (A program's own use of node:inspector is then left out with it.)
 */
const isOwnOrInspectorFrame = (loc: RawLocation) =>
  isOwnFrame(loc) || loc.scriptName === 'node:inspector';

/** How often the session directory is looked at while the command runs. */
const POLL_MS = 200;

/** What sampled-agent.cts writes beside each profile. */
interface SampledMetaFile {
  kind: 'part' | 'end';
  seq?: number;
  pid: number;
  ppid: number;
  threadId: number;
  argv: string[];
  cwd: string;
  node: string;
  v8: string;
  endUs: number;
  reason: string;
  exitCode?: number;
  sampleInterval: number;
  backend: 'v8.startHeapProfile' | 'inspector';
  live: boolean;
  gc?: { scavenges: number; markCompacts: number };
  heapAtEnd?: { used: number; external?: number };
  sourceMapUrls: Record<string, string>;
  scriptUrls?: Record<string, string>;
}

export interface SampledSessionOptions {
  /** The session directory the agents write to. */
  session: string;
  outDir: string;
  /** File for the main process's final profile (its parts get `-<n>` before `.json`). */
  outFile?: string;
  /** The command as run. */
  command: readonly string[];
  /** Called as each profile is written, while the command may still run. */
  onProfile?: (profile: WrittenProfile) => void;
}

export interface SampledSession {
  /** Knows the root process from now on, and passes heapscope's SIGUSR2 on to it. */
  attach(child: ChildProcess): void;
  /**
   * After the command ended: converts what is left and says which profiles are missing.
   * `rootSignal` is the signal that ended the command's own process, if one did.
   */
  finish(rootSignal?: string): Promise<{ profiles: WrittenProfile[]; missing: MissingProfile[] }>;
}

const META_NAME = /^(\d+)\.(\d+)\.(part(\d+)|end)\.meta\.json$/;

/** Starts watching a sampled session directory; call `attach` once the command runs. */
export function startSampledSession(opts: SampledSessionOptions): SampledSession {
  let rootPid = -1;
  const done = new Set<string>();
  const profiles: WrittenProfile[] = [];
  const unreadable: MissingProfile[] = [];
  let scanning: Promise<void> = Promise.resolve();
  let onUsr2: (() => void) | undefined;

  const cmdOf = (pid: number, threadId: number, argv: readonly string[]) =>
    commandOf({ pid: rootPid, command: opts.command }, pid, threadId, argv);

  const convert = async (name: string, m: RegExpExecArray) => {
    const id = `${m[1]}.${m[2]}`;
    const kind = m[4] !== undefined ? `part${m[4]}` : 'end';
    const meta = await readJson<SampledMetaFile>(join(opts.session, name));
    if (!meta) return;
    const raw = await fs.readFile(join(opts.session, `${id}.${kind}.heapprofile`), 'utf8');
    const isMain = meta.pid === rootPid && meta.threadId === 0;
    const cmd = cmdOf(meta.pid, meta.threadId, meta.argv);
    const profile = convertSampledProfile(raw, {
      pid: meta.pid,
      ppid: meta.ppid,
      threadId: meta.threadId,
      cmd,
      cwd: meta.cwd,
      node: meta.node,
      v8: meta.v8,
      endUs: meta.endUs,
      sampleInterval: meta.sampleInterval,
      live: meta.live,
      ...(meta.gc ? { gc: meta.gc } : {}),
      ...(meta.heapAtEnd ? { heapAtEnd: meta.heapAtEnd } : {}),
      sourceMapUrls: meta.sourceMapUrls,
      ...(meta.scriptUrls ? { scriptUrls: meta.scriptUrls } : {}),
      isOwnFrame: meta.scriptUrls ? isOwnOrInspectorFrame : isOwnFrame,
      notes: [
        ...(meta.kind === 'part'
          ? [`written on SIGUSR2 number ${meta.seq} while the program ran: totals so far`]
          : []),
        ...(meta.reason === 'duration' ? ['written after --duration; the program went on'] : []),
        ...(meta.live
          ? ['live at the end: samples whose object survived a full GC when the profile was taken']
          : meta.kind === 'end'
            ? [
                'no live-at-end figures: V8 before 14 (Node 26) does not tell which samples are still alive',
              ]
            : []),
      ],
    });
    const stem = meta.threadId ? `heapscope.${meta.pid}.${meta.threadId}` : `heapscope.${meta.pid}`;
    const finalPath = isMain && opts.outFile ? opts.outFile : join(opts.outDir, `${stem}.json`);
    const path =
      meta.kind === 'part' ? finalPath.replace(/(\.json)?$/, `-${meta.seq}.json`) : finalPath;
    await writeFileAtomic(path, writeDhat(profile));
    const started = await readJson<StartedFile>(join(opts.session, `${id}.started.json`));
    const written: WrittenProfile = {
      path,
      pid: meta.pid,
      threadId: meta.threadId,
      cmd,
      isMain: isMain && meta.kind === 'end',
      profile,
      ...(meta.kind === 'part' ? { part: meta.seq } : {}),
      ...(started?.ancestors ? { ancestors: started.ancestors } : {}),
    };
    profiles.push(written);
    opts.onProfile?.(written);
  };

  const scanOnce = async () => {
    const names = await fs.readdir(opts.session).catch(() => [] as string[]);
    const ready = names
      .map((n) => ({ n, m: META_NAME.exec(n) }))
      .filter((x): x is { n: string; m: RegExpExecArray } => x.m !== null && !done.has(x.n))
      // Parts in order, before the end of the same thread.
      .sort((a, b) => partOrder(a.m) - partOrder(b.m));
    for (const { n, m } of ready) {
      done.add(n);
      try {
        await convert(n, m);
      } catch (e) {
        const pid = Number(m[1]);
        const threadId = Number(m[2]);
        const started = await readJson<StartedFile>(
          join(opts.session, `${m[1]}.${m[2]}.started.json`),
        );
        unreadable.push({
          pid,
          threadId,
          cmd: cmdOf(pid, threadId, started?.argv ?? []),
          reason: `its sampled profile could not be read: ${(e as Error).message}`,
        });
      }
    }
  };
  const scan = () => {
    scanning = scanning.then(scanOnce);
    return scanning;
  };
  const timer = setInterval(scan, POLL_MS);
  timer.unref();

  return {
    attach(child) {
      rootPid = child.pid ?? -1;
      // SIGUSR2 to heapscope reaches the command only when it is a sampled Node process:
      // anything else (a shell, npm) would die of it.
      onUsr2 = () => {
        const id = `${rootPid}.0`;
        if (
          existsSync(join(opts.session, `${id}.started.json`)) &&
          !existsSync(join(opts.session, `${id}.end.meta.json`))
        ) {
          child.kill('SIGUSR2');
        }
      };
      process.on('SIGUSR2', onUsr2);
    },
    async finish(rootSignal) {
      clearInterval(timer);
      if (onUsr2) process.removeListener('SIGUSR2', onUsr2);
      await scan();
      const missing: MissingProfile[] = [...unreadable];
      const names = await fs.readdir(opts.session);
      for (const n of names.filter((x) => x.endsWith('.started.json')).sort()) {
        const id = n.slice(0, -'.started.json'.length);
        const info = await readJson<StartedFile>(join(opts.session, n));
        if (!info) continue;
        const cmd = cmdOf(info.pid, info.threadId, info.argv ?? []);
        if (info.error) {
          missing.push({ pid: info.pid, threadId: info.threadId, cmd, reason: info.error });
        } else if (!existsSync(join(opts.session, `${id}.end.meta.json`))) {
          missing.push({
            pid: info.pid,
            threadId: info.threadId,
            cmd,
            reason: await noProfileReason(
              opts.session,
              info.pid,
              info.threadId,
              info.pid === rootPid && info.threadId === 0 ? rootSignal : undefined,
            ),
          });
        }
      }
      return { profiles: [...profiles], missing };
    },
  };
}

function partOrder(m: RegExpExecArray): number {
  return m[4] !== undefined ? Number(m[4]) : Number.MAX_SAFE_INTEGER;
}
