/**
 * `npm run bench:synth`: wall time of a full synth (validate config, build the construct
 * tree, render, write dist atomically) for 2, 10 and 50 regions. Prints a Markdown table.
 */
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { stringify } from 'yaml';
import { writeDistAtomically } from '../charts/dist-writer.js';
import { renderDist } from '../charts/render.js';
import { parseConfig } from '../regions/load.js';
import { inputWithRegions, tempDir } from '../test/helpers.js';

const SIZES = [2, 10, 50];
const RUNS = 7;

function configText(n: number): string {
  return stringify(inputWithRegions(n));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

console.log(`synth wall time, ${RUNS} runs each after one warm-up (node ${process.version})\n`);
console.log('| regions | files | median ms | min ms | max ms |');
console.log('|---:|---:|---:|---:|---:|');
for (const n of SIZES) {
  const text = configText(n);
  const out = tempDir('regionmesh-bench-');
  const once = () => {
    const t0 = performance.now();
    const files = renderDist(parseConfig(text, `bench-${n}.yaml`));
    writeDistAtomically(`${out}/dist`, files);
    return { ms: performance.now() - t0, files: files.size };
  };
  once();
  const samples = Array.from({ length: RUNS }, once);
  const ms = samples.map((s) => s.ms);
  console.log(`| ${n} | ${samples[0]!.files} | ${median(ms).toFixed(1)} | ${Math.min(...ms).toFixed(1)} | ${Math.max(...ms).toFixed(1)} |`);
  rmSync(out, { recursive: true, force: true });
}
