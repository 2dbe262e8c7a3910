import { describe, expect, it } from 'vitest';
import { childCommand, OWN_SCRIPTS } from '../../src/capture/session-files.js';

describe('childCommand', () => {
  const agent = OWN_SCRIPTS.find((p) => p.endsWith('/agent.cjs'))!;

  it('shows a short command as it is, without heapscope agent', () => {
    expect(childCommand(['/usr/bin/node', `--require=${agent}`, 'app.js', '--port', '80'])).toBe(
      '/usr/bin/node app.js --port 80',
    );
    expect(childCommand(['node', '--inspect=0', '-e', 'x()'])).toBe("node --inspect=0 -e 'x()'");
  });

  it('shows a long run of Node options as its count (node --test on Node 26)', () => {
    const options = Array.from({ length: 30 }, (_, i) => `--option-${i}=${i}`);
    expect(childCommand(['/n/node', ...options, `--require=${agent}`, '/t/a.test.mjs'])).toBe(
      '/n/node [30 Node options] /t/a.test.mjs',
    );
  });

  it('stops counting at the first argument that is not one whole option', () => {
    const argv = ['node', '--a', '--b', '--conditions', 'node', '--c', '--d', '--e', '--f', 'w.js'];
    expect(childCommand(argv)).toBe('node --a --b --conditions node --c --d --e --f w.js');
  });
});
