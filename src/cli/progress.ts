/**
 * A one-line progress display on a TTY; silent otherwise. With NO_COLOR set the line is
 * drawn and cleared with spaces and a carriage return only, no escape sequence.
 */
export function progressReporter(
  stream: NodeJS.WritableStream & { isTTY?: boolean },
  env: NodeJS.ProcessEnv = {},
) {
  const tty = stream.isTTY === true;
  const plain = 'NO_COLOR' in env && env.NO_COLOR !== '';
  let shown = 0;
  let last = 0;
  const clear = () => (plain ? `\r${' '.repeat(shown)}\r` : '\r\x1b[2K');
  return {
    update: (label: string, done: number, total: number) => {
      if (!tty) return;
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      const pct = total > 0 ? Math.floor((done / total) * 100) : 0;
      const text = `${label}: ${pct}%`;
      stream.write(`${shown ? clear() : '\r'}${text}`);
      shown = text.length;
    },
    done: () => {
      if (shown) stream.write(clear());
      shown = 0;
    },
  };
}
