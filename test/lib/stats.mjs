// Small statistics and load helpers for the process-level suites and the bench: percentiles, tallies of
// HTTP outcomes, a bounded-concurrency pool and a seeded PRNG.

export const range = (n) => Array.from({ length: n }, (_, i) => i);

/** Nearest-rank percentile, `p` in 0..100. */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export const round = (value, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

/** {"200": 3, "ECONNRESET": 1} from a list of results ({status} or {error}). */
export function tally(results) {
  const counts = {};
  for (const r of results) {
    const key = r.status && !r.error ? String(r.status) : String(r.error ?? r.status);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

export const tallyText = (counts) => Object.entries(counts).sort().map(([k, v]) => `${k}×${v}`).join(" ");

/** Runs `task(i)` for i in [0, count) with at most `concurrency` in flight; resolves the results in order. */
export async function pool(count, concurrency, task) {
  const results = new Array(count);
  let next = 0;
  await Promise.all(
    range(Math.min(concurrency, count)).map(async () => {
      while (next < count) {
        const i = next++;
        results[i] = await task(i);
      }
    }),
  );
  return results;
}

/** mulberry32: a small seeded PRNG, so a failing randomized run can be replayed exactly. */
export function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (list) => list[Math.floor(next() * list.length)],
    chance: (p) => next() < p,
    bytes: (n) => {
      const out = Buffer.alloc(n);
      for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 256);
      return out;
    },
  };
}
