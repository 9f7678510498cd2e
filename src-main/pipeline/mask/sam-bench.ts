// `npm run bench:sam`: SAM image-embedding time and per-click decoder latency, as JSON.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../common/project-root.js';
import { SamEngine } from './sam-engine.js';

const image = process.argv[2] ?? join(PROJECT_ROOT, '..', 'shared', 'fixtures', 'images', 'dog_00.jpg');
const bytes = readFileSync(image);
const t0 = performance.now();
const sam = await SamEngine.load();
const loadMs = performance.now() - t0;
const embedTimes: number[] = [];
let embedding = await sam.embed(bytes);
for (let i = 0; i < 3; i++) {
  // a fresh engine each time: no cache, the real first-click cost
  const fresh = await SamEngine.load();
  const start = performance.now();
  embedding = await fresh.embed(bytes);
  embedTimes.push(performance.now() - start);
}
const clicks: number[] = [];
let previous: Float32Array | null = null;
const [w, h] = [embedding.width, embedding.height];
for (let i = 0; i < 20; i++) {
  const start = performance.now();
  const points = [{ x: w / 2, y: h / 2, positive: true }, ...(i % 2 ? [{ x: w * 0.05, y: h * 0.05, positive: false }] : [])];
  previous = (await sam.segment(embedding, { points, previous })).lowRes;
  clicks.push(performance.now() - start);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)]!;
console.log(
  JSON.stringify(
    {
      bench: 'sam',
      provider: 'cpu',
      image: `${w}x${h}`,
      modelLoadMs: Math.round(loadMs),
      embeddingMs: { median: Math.round(median(embedTimes)), runs: embedTimes.length },
      clickMs: { median: Math.round(median(clicks)), p90: Math.round(p90(clicks)), runs: clicks.length, targetMs: 100 },
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    },
    null,
    2,
  ),
);
