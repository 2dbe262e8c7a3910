// Allocation-heavy workload for benchmarks: short-lived objects, strings and arrays in a
// loop, plus a retained map of RETAIN_MB megabytes (approximately) at the end.
const rounds = Number(process.argv[2] ?? 300);
const retainMb = Number(process.argv[3] ?? 0);

function makeRecord(i) {
  return { id: i, name: `record-${i}`, tags: [i & 7, i & 3], score: i * 0.5 };
}

function churn(n) {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const r = makeRecord(i);
    sum += r.name.length + r.tags.length;
  }
  return sum;
}

const keep = new Map();
function retain(mb) {
  // ~100 bytes per entry: a record object, its string, its array
  const n = Math.floor((mb * 1024 * 1024) / 160);
  for (let i = 0; i < n; i++) keep.set(i, makeRecord(i));
}

let total = 0;
for (let r = 0; r < rounds; r++) total += churn(10_000);
if (retainMb > 0) retain(retainMb);
globalThis.keep = keep;
console.log(`alloc-heavy: ${total} (${keep.size} retained)`);
