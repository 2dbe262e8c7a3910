// CPU- and allocation-heavy script for the sampled-mode overhead bench: records built,
// indexed in a Map, serialised and parsed, strings split and joined, numbers crunched.
// Prints `work_ms <n>` and `cpu_ms <n>`: wall and CPU (user + system) time of the work
// itself, without process start and exit. CPU time suffers less from a busy machine.
const rounds = Number(process.argv[2] ?? 40);

function makeRecord(i, r) {
  return {
    id: i,
    key: `k${r}-${i}`,
    values: [i & 15, (i * 3) & 15, (i * 7) & 15],
    weight: i * 0.25,
  };
}

function round(r) {
  const index = new Map();
  for (let i = 0; i < 20_000; i++) {
    const rec = makeRecord(i, r);
    index.set(rec.key, rec);
  }
  const text = JSON.stringify([...index.values()].slice(0, 4000));
  const parsed = JSON.parse(text);
  let acc = 0;
  for (const p of parsed) acc += p.values.reduce((a, b) => a + b, 0);
  const words = text.split(',').map((w) => w.trim().toUpperCase());
  acc += words.join('|').length;
  for (let i = 0; i < 300_000; i++) acc = (acc * 31 + i) % 1_000_003;
  return acc;
}

const t0 = process.hrtime.bigint();
const c0 = process.cpuUsage();
let total = 0;
for (let r = 0; r < rounds; r++) total += round(r);
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
const cpu = process.cpuUsage(c0);
process.stdout.write(
  `checksum ${total}\nwork_ms ${ms.toFixed(1)}\ncpu_ms ${((cpu.user + cpu.system) / 1000).toFixed(1)}\n`,
);
