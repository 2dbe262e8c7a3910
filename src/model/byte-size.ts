// A size as people write it (a budget's limit, a command-line flag) into bytes.

/** Parses "50MB", "1.5 GiB", "4096", "64k" into bytes (decimal and binary units). */
export function parseBytes(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$/i.exec(text);
  if (!m) throw new RangeError(`not a size: "${text}" (try 4096, 64KiB, 50MB)`);
  const n = Number(m[1]);
  const unit = (m[2] ?? '').toLowerCase().replace(/b$/, '');
  const scale: Record<string, number> = {
    '': 1,
    k: 1e3,
    m: 1e6,
    g: 1e9,
    t: 1e12,
    ki: 1024,
    mi: 1024 ** 2,
    gi: 1024 ** 3,
    ti: 1024 ** 4,
  };
  const s = scale[unit];
  if (s === undefined) throw new RangeError(`unknown size unit in "${text}"`);
  return Math.round(n * s);
}
