// Size and cold module load time of each pre-bundled Lambda handler (assets/<name>/index.js).
// Usage: node bench/handlers.bench.mjs [assets dir] [runs]   (defaults: assets, 7)
// Load time: a fresh `node` process requires the bundle and reports the time the require took
// (process.hrtime around require(), so node's own start-up is not counted); the median of `runs` processes.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';

const dir = resolve(process.argv[2] ?? 'assets');
const runs = Number(process.argv[3] ?? 7);
const probe = `const t=process.hrtime.bigint();require(process.argv[1]);process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
const rows = [];
for (const name of readdirSync(dir).sort()) {
  const file = join(dir, name, 'index.js');
  if (!existsSync(file)) continue;
  const times = [];
  for (let i = 0; i < runs; i++) {
    times.push(Number(execFileSync(process.execPath, ['-e', probe, file], { encoding: 'utf8', env: { ...process.env, AWS_REGION: 'us-east-1' } })));
  }
  times.sort((a, b) => a - b);
  rows.push({ name, bytes: statSync(file).size, gzip: gzipSync(readFileSync(file)).length, loadMs: times[Math.floor(times.length / 2)] });
}
console.log(`| handler | bundle | gzip | module load (median of ${runs}) |`);
console.log('|---|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.name} | ${(r.bytes / 1024).toFixed(0)} KiB | ${(r.gzip / 1024).toFixed(0)} KiB | ${r.loadMs.toFixed(0)} ms |`);
