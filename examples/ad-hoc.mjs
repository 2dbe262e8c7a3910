// Ad-hoc profiling: count the bytes a program writes, by the call stack that wrote them.
//   npm run build && node examples/ad-hoc.mjs && node bin/heapscope.js report heapscope-ad-hoc.json
import { adHocEvent, Profiler } from '../dist/index.js';

function write(chunk) {
  adHocEvent(chunk.length); // one event, weighted by the bytes written
}
function sendHeader(name, value) {
  write(`${name}: ${value}\r\n`);
}
function sendBody(body) {
  for (let i = 0; i < body.length; i += 1024) write(body.slice(i, i + 1024));
}

const profiler = Profiler.start({ mode: 'ad-hoc' });
for (let request = 0; request < 100; request++) {
  sendHeader('content-type', 'application/json');
  sendHeader('x-request-id', String(request).padStart(8, '0'));
  sendBody('x'.repeat(5000));
}
const result = await profiler.stop();
console.log(result.summary.join('\n'));
