/** A one-line progress display on a TTY; silent otherwise. */
export function progressReporter(stream: NodeJS.WritableStream & { isTTY?: boolean }) {
  const tty = stream.isTTY === true;
  let shown = false;
  let last = 0;
  return {
    update: (label: string, done: number, total: number) => {
      if (!tty) return;
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      const pct = total > 0 ? Math.floor((done / total) * 100) : 0;
      stream.write(`\r\x1b[2K${label}: ${pct}%`);
      shown = true;
    },
    done: () => {
      if (shown) stream.write('\r\x1b[2K');
      shown = false;
    },
  };
}
