// "Did you mean": the closest known names to a misspelt one, by edit distance.

function distance(a: string, b: string): number {
  const prev = Array.from({length: b.length + 1}, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]
    prev[0] = i
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1))
      diag = up
    }
  }
  return prev[b.length]
}

/** The candidates closest to `name` (at most `max`, all at the smallest distance, within a third of its length). */
export function closestNames(name: string, candidates: Iterable<string>, max = 3): string[] {
  const limit = Math.max(2, Math.ceil(name.length / 3))
  const scored = [...new Set(candidates)]
    .map((c) => ({c, d: distance(name.toLowerCase(), c.toLowerCase())}))
    .filter((x) => x.d <= limit)
    .sort((a, b) => a.d - b.d || a.c.localeCompare(b.c))
  return scored.filter((x) => x.d === scored[0].d).slice(0, max).map((x) => x.c)
}
