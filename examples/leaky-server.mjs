// An express server with a leak: a middleware keeps every request in an array. The
// README finds it with `heapscope run --snapshot-signal` and `heapscope snapshot a b`.
//   node examples/leaky-server.mjs        (listens on port 3000, or $PORT)
import express from 'express';

const seen = [];

function keepRequests(req, _res, next) {
  seen.push(req);
  next();
}

const app = express();
app.use(keepRequests);
app.get('/hello', (req, res) => {
  res.json({ hello: req.query.name ?? 'world' });
});
app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
