// A small program with known allocations, profiled by `npm run demo`:
//   makePoints   allocates 200,000 Point objects; all are garbage by the end
//   remember     keeps 5,000 entries in a Map that is never cleared (live at the end)
//   renderRow    builds 50,000 strings by concatenation, each dropped right away
class Point {
  constructor(x, y) {
    this.x = x;
    this.y = y;
  }
}

function makePoints(n) {
  const points = [];
  for (let i = 0; i < n; i++) points.push(new Point(i, i * 2));
  return points;
}

const cache = new Map();
function remember(id) {
  cache.set(id, { id, seenAt: id * 1000, tags: ['new'] });
}

function renderRow(i) {
  return `<tr><td>${i}</td><td>${(i * 1.5).toFixed(2)}</td></tr>`;
}

let checksum = 0;
for (let round = 0; round < 4; round++) {
  const points = makePoints(50_000);
  checksum += points.length;
}
for (let id = 0; id < 5_000; id++) remember(id);
for (let i = 0; i < 50_000; i++) checksum += renderRow(i).length;

console.log(`shapes: checksum ${checksum}, cache holds ${cache.size} entries`);
