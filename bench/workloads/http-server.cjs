// A small JSON API on 127.0.0.1 for the sampled-mode overhead bench: each request
// builds a page of catalogue items, filters, sorts and serialises it. Prints
// `port <n>` once listening. `GET /mark` starts counting CPU time; `GET /quit` prints
// `cpu_ms <n>` (user + system since the mark) and closes the server, so the process
// ends normally.
const http = require('node:http');

function makeItem(i, seed) {
  return {
    id: i,
    sku: `SKU-${seed}-${i.toString(36)}`,
    name: `Item ${i} of batch ${seed}`,
    price: Math.round((i * 7.3 + seed) * 100) / 100,
    tags: ['red', 'green', 'blue', 'large', 'small'].filter((_, k) => (i + k + seed) % 3 === 0),
    stock: { warehouse: (i * 13) % 97, store: (i * 7) % 11 },
  };
}

function page(seed, size) {
  const items = [];
  for (let i = 0; i < size; i++) items.push(makeItem(i, seed));
  const visible = items.filter((it) => it.stock.warehouse + it.stock.store > 5);
  visible.sort((a, b) => a.price - b.price || a.id - b.id);
  return { seed, count: visible.length, items: visible.map(({ stock, ...rest }) => rest) };
}

let mark = process.cpuUsage();
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname === '/mark') {
    mark = process.cpuUsage();
    res.end('ok\n');
    return;
  }
  if (url.pathname === '/quit') {
    const cpu = process.cpuUsage(mark);
    process.stdout.write(`cpu_ms ${((cpu.user + cpu.system) / 1000).toFixed(1)}\n`);
    res.end('bye\n');
    server.close();
    return;
  }
  const seed = Number(url.searchParams.get('seed') ?? 1);
  const body = JSON.stringify(page(seed, 60));
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`port ${server.address().port}\n`);
});
