/**
 * The pure parts of attach's look at a target: Node's inspector options and the kernel's
 * socket tables, against hand-written inputs whose answers are known.
 */
import { describe, expect, it } from 'vitest';
import { isLoopback, parseProcNetTcp } from '../../src/capture/attach/listening.js';
import { inspectAddress, nodeOptionsOf } from '../../src/capture/attach/target.js';

describe('nodeOptionsOf', () => {
  it('stops at the script, and skips the values of options that take one', () => {
    expect(
      nodeOptionsOf(['node', '-r', 'x.js', '--inspect-port', '0', 'app.js', '--inspect']),
    ).toEqual(['-r', 'x.js', '--inspect-port', '0']);
    expect(nodeOptionsOf(['node', '--max-old-space-size=100', '-e', 'code', '--inspect'])).toEqual([
      '--max-old-space-size=100',
      '-e',
    ]);
  });
});

describe('inspectAddress', () => {
  it("is Node's default without options", () => {
    expect(inspectAddress([], undefined)).toEqual({
      host: '127.0.0.1',
      port: 9229,
      disabled: false,
      atStart: false,
    });
  });

  it('reads --inspect-port and --inspect forms, the command line over NODE_OPTIONS', () => {
    expect(inspectAddress(['--inspect-port=0'], undefined)).toMatchObject({ port: 0 });
    expect(inspectAddress(['--inspect-port', '9333'], undefined)).toMatchObject({ port: 9333 });
    expect(inspectAddress(['--inspect=0.0.0.0:9230'], undefined)).toMatchObject({
      host: '0.0.0.0',
      port: 9230,
      atStart: true,
    });
    expect(inspectAddress(['--inspect-brk=[::1]:9231'], undefined)).toMatchObject({
      host: '::1',
      port: 9231,
    });
    expect(
      inspectAddress(['--inspect-port=9400'], '--inspect-port=9300 --disable-sigusr1'),
    ).toEqual({
      host: '127.0.0.1',
      port: 9400,
      disabled: true,
      atStart: false,
    });
  });
});

describe('parseProcNetTcp', () => {
  const header =
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
  it('keeps the listening sockets with their address, port and inode', () => {
    const v4 =
      header +
      '   0: 0100007F:240D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4711 1 0 100 0 0 10 0\n' +
      '   1: 0100007F:C86E 0100007F:A4E9 06 00000000:00000000 03:0000068E 00000000     0        0 0 3 0\n' +
      '   2: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 99 1 0 100 0 0 10 0\n';
    expect(parseProcNetTcp(v4, false)).toEqual([
      { host: '127.0.0.1', port: 9229, inode: 4711 },
      { host: '0.0.0.0', port: 80, inode: 99 },
    ]);
    const v6 =
      header +
      '   0: 00000000000000000000000001000000:240D 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12 1 0\n';
    expect(parseProcNetTcp(v6, true)).toEqual([{ host: '::1', port: 9229, inode: 12 }]);
  });

  it('says which hosts are loopback', () => {
    expect(
      ['127.0.0.1', '127.1.2.3', '::1', 'localhost', '::ffff:127.0.0.1'].map(isLoopback),
    ).toEqual([true, true, true, true, true]);
    expect(['0.0.0.0', '::', '10.0.0.1'].map(isLoopback)).toEqual([false, false, false]);
  });
});
