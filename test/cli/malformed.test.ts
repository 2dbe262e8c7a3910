// Malformed input, through the real binary (run `npm run build` first): every command that
// reads a profile gives the one verdict `validateProfile` gives, exit 2 with one line that
// names the file and the field; pipes and `-` are read; a gzip bomb is refused at a stated
// limit; strings from a profile reach the terminal with their control characters escaped.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDhat, writeDhat } from '../../src/formats/dhat.js';
import { ProfileBuilder } from '../../src/model/builder.js';
import { MAX_STACK_DEPTH } from '../../src/model/validate.js';
import { BIN, heapscope, NODE, ROOT, tempDir } from '../helpers/heapscope.js';

const VALGRIND = join(ROOT, 'test', 'fixtures', 'dhat', 'valgrind-3.19', 'valgrind-heap.json');
const fixture = () => JSON.parse(readFileSync(VALGRIND, 'utf8'));

let dir = '';
beforeAll(() => {
  dir = tempDir('heapscope-malformed-test-');
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function write(name: string, data: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof data === 'string' ? data : JSON.stringify(data));
  return path;
}

/** Every command that reads a profile, run on `file`. */
function everyCommand(file: string): [string, string[]][] {
  return [
    ['report', ['report', file]],
    ['check', ['check', file, '--max-total', '15MB']],
    ['diff (base)', ['diff', file, VALGRIND]],
    ['diff (head)', ['diff', VALGRIND, file]],
    ['view', ['view', file, '--html', join(dir, 'out.html')]],
    ['convert', ['convert', file, '--to', 'dhat', '-o', join(dir, 'out.json')]],
  ];
}

/** Runs a command on `file` expecting exit 2 and one line naming the file; returns that line. */
function refused(args: string[], file: string): string {
  const r = heapscope(args);
  expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.split('\n');
  expect(lines, r.stderr).toHaveLength(2);
  expect(lines[1]).toBe('');
  expect(lines[0]).toContain(`${file.split('/').pop()}: `);
  // No JavaScript error text: a TypeError's wording, a stack line, an errno code.
  expect(lines[0]).not.toMatch(
    /is not a function|Cannot read prop|in operator|\bat \S+:\d+|E[A-Z]{3,}:/,
  );
  return lines[0]!.slice(lines[0]!.indexOf(': ', 'heapscope: '.length) + 2);
}

describe('a malformed size is never a verdict', () => {
  for (const [label, value] of [
    ['null', null],
    ['a string', 'abc'],
    ['a boolean', true],
  ] as const) {
    it(`check --max-total on a profile whose "tb" is ${label}: exit 2`, () => {
      const d = fixture();
      d.pps[0].tb = value;
      const file = write(`tb-${label.replace(' ', '-')}.json`, d);
      const r = heapscope(['check', file, '--max-total', '15MB']);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(
        `heapscope: ${file}: malformed profile: program point 0: "tb" is ${JSON.stringify(value)}; ` +
          'wants a whole number from 0 to 2^53-1\n',
      );
    });
  }

  const cases: [string, (d: ReturnType<typeof fixture>) => void, RegExp][] = [
    ['a negative size', (d) => (d.pps[1].gb = -16), /program point 1: "gb" is -16/],
    [
      'a size above 2^53',
      (d) => (d.pps[2].eb = 2 ** 60),
      /program point 2: "eb" is 1152921504606847000;/,
    ],
    ['a fraction of a byte', (d) => (d.pps[0].tbk = 0.5), /program point 0: "tbk" is 0.5/],
    [
      'a string for a stack',
      (d) => (d.pps[0].fs = 'abc'),
      /program point 0: "fs" is "abc"; wants an array/,
    ],
    [
      'null for a program point',
      (d) => (d.pps[3] = null),
      /program point 3 is null; wants an object/,
    ],
    [
      'an array for the command',
      (d) => (d.cmd = ['a', 'b']),
      /"cmd" is an array of 2; wants a string/,
    ],
    ['a number for a frame', (d) => (d.ftbl[2] = 7), /frame 2: "ftbl" is 7; wants a string/],
    [
      'null for heapscope.exact',
      (d) => (d.heapscope = { version: 1, capture: 'exact', exact: null }),
      /"heapscope.exact" is null/,
    ],
    [
      'a string for the version',
      (d) => (d.dhatFileVersion = '2'),
      /DHAT file version "2"; expected version 2/,
    ],
  ];
  for (const [label, spoil, message] of cases) {
    it(`${label}: the same refusal from report, check, diff, view and convert`, () => {
      const d = fixture();
      spoil(d);
      const file = write(`${label.replaceAll(' ', '-')}.json`, d);
      const verdicts = everyCommand(file).map(([, args]) => refused(args, file));
      expect(verdicts[0]).toMatch(message);
      expect(new Set(verdicts).size, verdicts.join('\n')).toBe(1);
    });
  }

  it('a .heapprofile with a negative selfSize or nested 100,000 deep: exit 2, no stack overflow', () => {
    const node = (id: number, children: unknown[], selfSize = 0) => ({
      callFrame: {
        functionName: `f${id}`,
        url: 'a.js',
        lineNumber: 1,
        columnNumber: 1,
        scriptId: '1',
      },
      selfSize,
      id,
      children,
    });
    const negative = write('negative.heapprofile', {
      head: node(1, [node(2, [], -8)]),
      samples: [],
    });
    expect(refused(['report', negative], negative)).toBe(
      'node 2: "selfSize" is -8; wants a whole number from 0 to 2^53-1',
    );
    // Built as text: the test's own JSON.stringify would overflow the stack first.
    const depth = 100_000;
    let text = '';
    for (let i = 1; i <= depth; i++) {
      text += `{"callFrame":{"functionName":"f","url":"a.js","lineNumber":1,"columnNumber":1,"scriptId":"1"},"selfSize":8,"id":${i},"children":[`;
    }
    text += ']}'.repeat(depth);
    const deep = write('deep.heapprofile', `{"head":${text},"samples":[]}`);
    for (const [, args] of everyCommand(deep).filter(([c]) => c === 'report' || c === 'convert')) {
      expect(refused(args, deep)).toBe(
        `node ${MAX_STACK_DEPTH + 2}: nodes nest deeper than ${MAX_STACK_DEPTH} levels, the deepest stack heapscope reads`,
      );
    }
  });

  it(`a stack of ${MAX_STACK_DEPTH} frames, branching at every frame, goes through every command`, () => {
    const b = new ProfileBuilder({
      mode: 'node-heap',
      verb: 'Allocated',
      hasLifetimes: false,
      hasAccesses: false,
      timeUnit: 'µs',
      timeUnitLarge: 's',
      cmd: 'deep',
      pid: 1,
      endTime: 1,
    });
    const chain = Array.from({ length: MAX_STACK_DEPTH }, (_, i) => `f${i} (a.js:${i + 1}:1)`);
    // One site at every depth: the tree of stacks is as deep as the stacks.
    for (let n = 1; n <= MAX_STACK_DEPTH; n += 1) {
      b.add({
        frames: [`leaf${n} (a.js:1:1)`, ...chain.slice(MAX_STACK_DEPTH - n + 1)],
        totalBytes: 8,
        totalBlocks: 1,
      });
    }
    b.add({ frames: chain, totalBytes: 16, totalBlocks: 1 });
    const file = write('deepest.json', writeDhat(b.build()));
    expect(heapscope(['report', file, '--top', '1']).status).toBe(0);
    expect(heapscope(['view', file, '--html', join(dir, 'deep.html')]).status).toBe(0);
    expect(heapscope(['diff', file, file]).status).toBe(0);
    for (const to of ['dhat', 'pprof', 'heapprofile', 'speedscope']) {
      const out = join(dir, `deepest.${to}`);
      const r = heapscope(['convert', file, '--to', to, '-o', out]);
      expect(r.status, r.stderr).toBe(0);
      if (to !== 'speedscope') expect(heapscope(['report', out, '--top', '1']).status).toBe(0);
    }
  });
});

describe('input that is not a plain file', () => {
  it('reads a profile from a pipe: `-` and /dev/stdin give the report of the file', () => {
    const want = heapscope(['report', VALGRIND]);
    expect(want.status).toBe(0);
    for (const arg of ['-', '/dev/stdin']) {
      const r = spawnSync(NODE, [BIN, 'report', arg], {
        input: readFileSync(VALGRIND),
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1' },
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe(want.stdout);
    }
    // A shell's pipe and bash's process substitution (a pipe under /dev/fd).
    for (const line of [
      `cat '${VALGRIND}' | '${NODE}' '${BIN}' report /dev/stdin`,
      `'${NODE}' '${BIN}' report <(cat '${VALGRIND}')`,
    ]) {
      const r = spawnSync('bash', ['-c', line], {
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1' },
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe(want.stdout);
    }
    // A pprof file through a pipe: read after a copy to a temporary file.
    const pprof = join(dir, 'piped.pb.gz');
    expect(heapscope(['convert', VALGRIND, '--to', 'pprof', '-o', pprof]).status).toBe(0);
    const r = spawnSync(NODE, [BIN, 'check', '-', '--max-total', '96368'], {
      input: readFileSync(pprof),
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('PASS  total bytes: 96,368 bytes');
  });

  it('refuses a directory, an empty file and a missing file by name', () => {
    const sub = join(dir, 'a-directory');
    mkdirSync(sub);
    expect(refused(['report', sub], sub)).toBe('is a directory, not a profile');
    const empty = write('empty.json', '');
    expect(refused(['check', empty, '--max-total', '1'], empty)).toBe('empty file, not a profile');
    expect(refused(['diff', join(dir, 'none.json'), VALGRIND], 'none.json')).toBe('no such file');
  });

  it('accepts a UTF-8 byte-order mark; words a JSON syntax error on one line with its place', () => {
    const bom = write('bom.json', `\uFEFF${readFileSync(VALGRIND, 'utf8')}`);
    const r = heapscope(['report', bom]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(heapscope(['report', VALGRIND]).stdout);
    const text = readFileSync(VALGRIND, 'utf8').replace(
      '"mode":"heap"',
      '"mode":\n\u001b]0;x\u0007 heap',
    );
    const bad = write('syntax.json', text);
    expect(refused(['report', bad], bad)).toBe(
      'not valid JSON: unexpected "\\u001b" at line 3, column 1',
    );
  });

  it('refuses a gzip bomb at its stated limit, and HEAPSCOPE_MAX_INFLATED moves the limit', () => {
    // 1,024 gzip members of 1 MiB of zeros each: 1 GiB inflated from about 1 MiB.
    const member = gzipSync(Buffer.alloc(1 << 20));
    const bomb = join(dir, 'bomb.pb.gz');
    writeFileSync(bomb, Buffer.concat(Array(1024).fill(member)));
    const mib = Math.round(((64 * member.length * 1024) / 2 ** 20) * 10) / 10;
    const r = heapscope(['report', bomb], { timeoutMs: 120_000 });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toBe(
      `heapscope: ${bomb}: gzip data inflates to more than ${mib} MiB, the limit for ` +
        `${Math.round(((member.length * 1024) / 2 ** 20) * 10) / 10} MiB of gzip (a gzip bomb?); ` +
        'set HEAPSCOPE_MAX_INFLATED (e.g. 2GiB) to allow more\n',
    );
    const small = heapscope(['report', bomb], {
      env: { HEAPSCOPE_MAX_INFLATED: '1MiB' },
      timeoutMs: 120_000,
    });
    expect(small.stderr).toContain('inflates to more than 1 MiB');
  });
});

describe('strings from a profile are printed escaped', () => {
  const EVIL = 'evil\u001b]52;c;aGk=\u0007\u001b[2J\u001b]0;pwned\u0007\r\nfake line\t\u202e\u009b';
  const SHOWN = 'evil\\x1b]52;c;aGk=\\x07\\x1b[2J\\x1b]0;pwned\\x07\\r\\nfake line\\t\\u202e\\x9b';
  let file = '';
  beforeAll(() => {
    const d = fixture();
    d.ftbl[1] = `${EVIL} (a.c:1)`;
    d.cmd = `./prog ${EVIL}`;
    file = write('escapes.json', d);
  });

  /** No control character but newlines, and with colour only SGR sequences (ESC [ n m). */
  function expectNoRaw(text: string, color: boolean) {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: what the test looks for
    const stripped = color ? text.replace(/\u001b\[\d+(;\d+)*m/g, '') : text;
    // biome-ignore lint/suspicious/noControlCharactersInRegex: what the test looks for
    expect(stripped).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    expect(stripped).toContain(SHOWN);
  }

  it('report, diff, diff --markdown and check --markdown print none raw', () => {
    for (const env of [{ NO_COLOR: '1' }, { NO_COLOR: '', FORCE_COLOR: '1' }]) {
      const color = env.FORCE_COLOR === '1';
      for (const args of [
        ['report', file],
        ['diff', VALGRIND, file],
        ['diff', VALGRIND, file, '--markdown'],
        ['check', file, '--max-total', '1MB', '--markdown'],
        [
          'check',
          file,
          '--budget-file',
          write('budget.json', { sites: [{ function: 'evil*', max: { total: 1 } }] }),
        ],
      ]) {
        const r = heapscope(args, { env });
        expect(r.status, r.stderr).toBeLessThan(2);
        expectNoRaw(r.stdout, color && !args.includes('--markdown'));
      }
    }
  });

  it('the "wrote" line of convert shows a file name with control characters escaped', () => {
    const out = join(dir, 'new\nline\u001b[2J.json');
    const r = heapscope(['convert', VALGRIND, '--to', 'dhat', '-o', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^heapscope: wrote .*new\\nline\\x1b\[2J\.json {2}\(dhat, 5 program points; read .*\)\n$/,
    );
    expect(readDhat(readFileSync(out, 'utf8')).cmd).toBe('./prog');
  });

  it('snapshot: property names from a heap snapshot read through a pipe print escaped', () => {
    const snap = join(dir, 'evil.heapsnapshot');
    const program =
      'class Leaky { constructor() { this.big = new Array(1000).fill(1); } }' +
      "globalThis['evil\\u001b]0;pwned\\u0007\\u001b[2J'] = new Leaky();" +
      `require('v8').writeHeapSnapshot(${JSON.stringify(snap)});`;
    const made = spawnSync(NODE, ['-e', program], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    const r = spawnSync(
      'bash',
      ['-c', `cat '${snap}' | '${NODE}' '${BIN}' snapshot - --path Leaky --top 1`],
      {
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1' },
      },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('.evil\\x1b]0;pwned\\x07\\x1b[2J');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: what the test looks for
    expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  });
});
