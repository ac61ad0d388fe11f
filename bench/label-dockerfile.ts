/**
 * bench/label-dockerfile: how the Dockerfile reader of `label-inspector check` scales with the
 * number of stages (`FROM s<i-1> AS s<i>` chains, a LABEL in each), against its own time for the
 * smallest size measured in the same run. Linear reading keeps each ratio near the size ratio;
 * the name lookup it replaced (a scan of every stage per FROM) was quadratic: 40,000 stages took
 * four minutes.
 *
 *   npm run build && node dist/bench/label-dockerfile.js [--stages N]
 */
import { performance } from 'node:perf_hooks';
import { parseDockerfileLabels } from '../agents/label-inspector/dockerfile';
import { argValue } from './args';

const LARGEST = argValue('--stages', 40_000);

function chained(stages: number): string {
  let text = 'FROM busybox AS s0\n';
  for (let i = 1; i < stages; i++) text += `FROM s${i - 1} AS s${i}\nLABEL com.example.n${i % 5}="${i}"\n`;
  return text;
}

/** The best of three parses, in milliseconds. */
function parseMs(text: string): number {
  let best = Infinity;
  for (let run = 0; run < 3; run++) {
    const started = performance.now();
    parseDockerfileLabels(text, {});
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

const sizes = [LARGEST / 8, LARGEST / 4, LARGEST / 2, LARGEST].map(Math.round);
const baseline = parseMs(chained(sizes[0]!));
console.log(`stages\tms\tms ratio to ${sizes[0]}\tsize ratio`);
for (const stages of sizes) {
  const ms = stages === sizes[0] ? baseline : parseMs(chained(stages));
  console.log(`${stages}\t${ms.toFixed(1)}\t${(ms / baseline).toFixed(2)}\t${(stages / sizes[0]!).toFixed(0)}`);
}
