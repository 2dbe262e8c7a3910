/**
 * What `attach` learns about a process before it touches it, all from Linux's /proc:
 * that it exists and belongs to this user, that it is Node, that Node's SIGUSR1 handler
 * is in place (a process without one would die of the signal), and where its inspector
 * will listen (`--inspect-port`, `--inspect`, in its arguments or $NODE_OPTIONS; Node's
 * default 127.0.0.1:9229). Every reason not to attach is an `AttachRefusal` whose
 * message says what to do.
 */
import { promises as fs } from 'node:fs';
import { basename } from 'node:path';
import { isLoopback } from './listening.js';

export class AttachRefusal extends Error {
  override name = 'AttachRefusal';
}

export interface TargetProcess {
  pid: number;
  /** The executable, from /proc/<pid>/exe. */
  exe: string;
  argv: string[];
  cwd: string;
  /** Where Node will open the inspector on SIGUSR1 (port 0: any free port). */
  inspect: { host: string; port: number };
  /** Started with `--inspect`, `--inspect-brk` or `--inspect-wait`: the inspector may be open already. */
  inspectAtStart: boolean;
}

/** Node's default inspector address. */
export const DEFAULT_INSPECT = { host: '127.0.0.1', port: 9229 };

/** SIGUSR1 is signal 10 on Linux: bit 9 of the SigCgt mask. */
const SIGUSR1_BIT = 1n << 9n;

/** Node options that take their value as the next argument (so it is not the script). */
const OPTIONS_WITH_VALUE = new Set([
  '-r',
  '--require',
  '--import',
  '--loader',
  '--experimental-loader',
  '--inspect-port',
  '--debug-port',
  '--title',
  '--conditions',
  '-C',
  '--env-file',
  '--stack-size',
]);

/** The Node options of a command line: arguments before the script (or `-e` code). */
export function nodeOptionsOf(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--' || !a.startsWith('-')) break;
    out.push(a);
    if (OPTIONS_WITH_VALUE.has(a) && i + 1 < argv.length) out.push(argv[++i]!);
    if (a === '-e' || a === '--eval' || a === '-p' || a === '--print') break;
  }
  return out;
}

/** `[host:]port` as Node reads it for --inspect-port and --inspect=. */
function hostPort(text: string, into: { host: string; port: number }): void {
  const m = /^(?:\[?([^\]]*?)\]?:)?(\d+)$/.exec(text);
  if (m) {
    if (m[1]) into.host = m[1];
    into.port = Number(m[2]);
  } else if (text) {
    into.host = text;
  }
}

/**
 * Where the inspector opens, from Node's options: the process's own and $NODE_OPTIONS
 * (which Node reads first, so the command line wins).
 */
export function inspectAddress(
  options: readonly string[],
  nodeOptionsEnv: string | undefined,
): { host: string; port: number; disabled: boolean; atStart: boolean } {
  const at = { ...DEFAULT_INSPECT };
  let disabled = false;
  let atStart = false;
  const all = [...(nodeOptionsEnv?.split(/\s+/).filter(Boolean) ?? []), ...options];
  for (let i = 0; i < all.length; i++) {
    const a = all[i]!;
    if (a === '--disable-sigusr1') disabled = true;
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    const value = eq < 0 ? undefined : a.slice(eq + 1);
    if (name === '--inspect-port' || name === '--debug-port') {
      hostPort(value ?? all[++i] ?? '', at);
    } else if (/^--inspect(-brk|-wait)?$/.test(name)) {
      atStart = true;
      if (value !== undefined) hostPort(value, at);
    }
  }
  return { ...at, disabled, atStart };
}

/** True when an executable looks like Node (node, nodejs, node22...) or links libnode. */
async function isNode(pid: number, exe: string): Promise<boolean> {
  if (/^(node|nodejs)[\d.-]*$/.test(basename(exe))) return true;
  const maps = await fs.readFile(`/proc/${pid}/maps`, 'utf8').catch(() => '');
  return /\/libnode\.so/.test(maps);
}

function statusField(status: string, name: string): string | undefined {
  return new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1];
}

/** Looks at process `pid` and says where its inspector will be, or refuses with the reason. */
export async function examineTarget(pid: number): Promise<TargetProcess> {
  if (process.platform !== 'linux') {
    throw new AttachRefusal(
      `attach reads /proc to check its target and find the inspector's port, so it works on Linux only (this is ${process.platform})`,
    );
  }
  if (!Number.isInteger(pid) || pid <= 0) throw new AttachRefusal(`"${pid}" is not a process id`);
  if (pid === process.pid) throw new AttachRefusal('heapscope cannot attach to itself');
  try {
    process.kill(pid, 0);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') throw new AttachRefusal(`no process has pid ${pid}`);
    if (code === 'EPERM') {
      const status = await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
      const uid = statusField(status, 'Uid')?.split(/\s+/)[0];
      throw new AttachRefusal(
        `pid ${pid} belongs to another user${uid ? ` (uid ${uid})` : ''}; run heapscope as that user`,
      );
    }
    throw e;
  }
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  const uid = Number(statusField(status, 'Uid')?.split(/\s+/)[0]);
  if (process.getuid && uid !== process.getuid() && process.getuid() !== 0) {
    throw new AttachRefusal(
      `pid ${pid} belongs to another user (uid ${uid}); run heapscope as that user`,
    );
  }
  const exe = await fs.readlink(`/proc/${pid}/exe`).catch(() => '');
  const argv = (await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => ''))
    .split('\0')
    .filter((a, i, all) => a !== '' || i < all.length - 1);
  const name = statusField(status, 'Name') ?? '';
  if (!exe || !(await isNode(pid, exe))) {
    throw new AttachRefusal(
      `pid ${pid} is not a Node process (${exe ? `its program is ${exe}` : `it is "${name}"`})`,
    );
  }
  const environ = await fs.readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
  const nodeOptions = environ
    .split('\0')
    .find((e) => e.startsWith('NODE_OPTIONS='))
    ?.slice('NODE_OPTIONS='.length);
  const inspect = inspectAddress(nodeOptionsOf(argv), nodeOptions);
  const caught = BigInt(`0x${statusField(status, 'SigCgt') ?? '0'}`);
  if ((caught & SIGUSR1_BIT) === 0n) {
    throw new AttachRefusal(
      inspect.disabled
        ? `pid ${pid} was started with --disable-sigusr1: its inspector cannot be opened from outside (restart it without the flag, or under heapscope run)`
        : `pid ${pid} does not handle SIGUSR1 (a Node built without the inspector, or started with --disable-sigusr1): the signal would end it, so heapscope does not send it`,
    );
  }
  if (!isLoopback(inspect.host)) {
    throw new AttachRefusal(
      `pid ${pid} would open its inspector on ${inspect.host}:${inspect.port}, reachable from other machines; heapscope attaches only where the inspector listens on 127.0.0.1 (the default)`,
    );
  }
  const cwd = await fs.readlink(`/proc/${pid}/cwd`).catch(() => '/');
  return {
    pid,
    exe,
    argv,
    cwd,
    inspect: { host: inspect.host, port: inspect.port },
    inspectAtStart: inspect.atStart,
  };
}
