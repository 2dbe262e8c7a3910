// Load for http-server.cjs from a second process: WARMUP requests, then REQUESTS more
// with at most CONCURRENCY in flight over keep-alive connections; prints the measured
// part's requests per second as JSON, then asks the server to quit.
//   node http-client.mjs <port> [requests] [concurrency] [warmup]
import http from 'node:http';

const [port, requests = 20000, concurrency = 16, warmup = 2000] = process.argv.slice(2).map(Number);
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });

function get(path) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      let n = 0;
      res.on('data', (d) => {
        n += d.length;
      });
      res.on('end', () => {
        if (res.statusCode === 200) resolve(n);
        else reject(new Error(`HTTP ${res.statusCode}`));
      });
    });
    req.on('error', reject);
  });
}

async function load(total) {
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      await get(`/items?seed=${i % 1000}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

await load(warmup);
await get('/mark');
const t0 = process.hrtime.bigint();
await load(requests);
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
await get('/quit').catch(() => undefined);
agent.destroy();
process.stdout.write(`${JSON.stringify({ requests, seconds, rps: requests / seconds })}\n`);
