const group = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

/** 1234567 → "1,234,567". */
export function count(n: number): string {
  return group.format(n);
}

/** Bytes in binary units: "512 B", "1.5 KiB", "12.3 MiB". */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${count(v)} B` : `${oneDecimal.format(v)} ${units[u]}`;
}

export function percent(share: number): string {
  return `${oneDecimal.format(share * 100)}%`;
}

/** A time in the profile's unit: µs become ms or s, other units are printed as counts. */
export function time(value: number, unit: string): string {
  if (unit === 'µs' || unit === 'us') {
    if (value >= 1e6) return `${oneDecimal.format(value / 1e6)} s`;
    if (value >= 1e3) return `${oneDecimal.format(value / 1e3)} ms`;
    return `${count(value)} µs`;
  }
  return `${count(value)} ${unit}`;
}
