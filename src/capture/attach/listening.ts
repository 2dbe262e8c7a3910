/**
 * Listening TCP sockets, read from Linux's /proc: which ports a process listens on
 * (its socket inodes in /proc/<pid>/fd matched against /proc/<pid>/net/tcp{,6}), and
 * whether any process listens on a port. How `attach` finds the port a target's
 * inspector opened without asking the target anything.
 */
import { promises as fs } from 'node:fs';

export interface ListeningSocket {
  /** `127.0.0.1`, `0.0.0.0`, `::1`, `::`, or another address in the usual notation. */
  host: string;
  port: number;
  inode: number;
}

/** TCP state LISTEN in /proc/net/tcp. */
const LISTEN = '0A';

function ipv4(hex: string): string {
  // Four bytes in the kernel's (little-endian on x86 and arm) order.
  const n = Number.parseInt(hex, 16);
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24].join('.');
}

function ipv6(hex: string): string {
  const words: string[] = [];
  for (let i = 0; i < 32; i += 8) {
    const w = hex.slice(i, i + 8);
    // Each 32-bit word is in host (little-endian) order.
    const bytes = [w.slice(6, 8), w.slice(4, 6), w.slice(2, 4), w.slice(0, 2)].join('');
    words.push(bytes.slice(0, 4), bytes.slice(4, 8));
  }
  const groups = words.map((g) => Number.parseInt(g, 16).toString(16));
  const text = groups.join(':');
  if (text === '0:0:0:0:0:0:0:0') return '::';
  if (text === '0:0:0:0:0:0:0:1') return '::1';
  if (text.startsWith('0:0:0:0:0:ffff:')) {
    const v4 = hex.slice(24);
    return `::ffff:${ipv4(v4)}`;
  }
  return text;
}

/** Parses /proc/net/tcp or tcp6 text into its listening sockets. */
export function parseProcNetTcp(text: string, v6: boolean): ListeningSocket[] {
  const out: ListeningSocket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== LISTEN) continue;
    const [addr, port] = f[1]!.split(':');
    out.push({
      host: v6 ? ipv6(addr!) : ipv4(addr!),
      port: Number.parseInt(port!, 16),
      inode: Number(f[9]),
    });
  }
  return out;
}

/** Every listening TCP socket in the network namespace of `pid` (the caller's by default). */
export async function listeningSockets(pid: number | 'self' = 'self'): Promise<ListeningSocket[]> {
  const read = (name: string) => fs.readFile(`/proc/${pid}/net/${name}`, 'utf8').catch(() => '');
  const [v4, v6] = await Promise.all([read('tcp'), read('tcp6')]);
  return [...parseProcNetTcp(v4, false), ...parseProcNetTcp(v6, true)];
}

/** The socket inodes among the open files of `pid` (needs the right to read its fds). */
export async function socketInodes(pid: number): Promise<Set<number>> {
  const inodes = new Set<number>();
  const fds = await fs.readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  await Promise.all(
    fds.map(async (fd) => {
      const link = await fs.readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m) inodes.add(Number(m[1]));
    }),
  );
  return inodes;
}

/** The ports `pid` itself listens on. */
export async function listeningSocketsOf(pid: number): Promise<ListeningSocket[]> {
  const [all, mine] = await Promise.all([listeningSockets(pid), socketInodes(pid)]);
  return all.filter((s) => mine.has(s.inode));
}

/** True when a host string means the machine itself only. */
export function isLoopback(host: string): boolean {
  return (
    host === 'localhost' || host === '::1' || /^127\./.test(host) || /^::ffff:127\./.test(host)
  );
}
