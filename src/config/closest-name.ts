/**
 * The known name closest to a misspelt one, by Damerau-Levenshtein distance (optimal string
 * alignment: insertions, deletions, substitutions and swaps of two neighbours each cost 1), so
 * that `IM_PROT` finds `IM_PORT` and `IM_JWT_SECRETS` finds `IM_JWT_SECRET`. Case is ignored.
 */

export interface Candidate {
  /** What the misspelt name is compared with. */
  readonly text: string
  /** What is suggested when it is the closest (the same name, or the name it stands for). */
  readonly suggestion: string
}

/** The suggestion of the closest candidate, or undefined when none is close enough to be a likely typo. */
export function closestName(name: string, candidates: readonly Candidate[]): string | undefined {
  const wanted = name.toLowerCase()
  // A third of the name may be wrong, at least two characters: close enough to be a typo, far enough to stay quiet about unrelated names.
  let best: { suggestion: string; distance: number } | undefined
  const limit = Math.max(2, Math.floor(wanted.length / 3))
  for (const candidate of candidates) {
    const distance = editDistance(wanted, candidate.text.toLowerCase())
    if (distance <= limit && (best === undefined || distance < best.distance)) best = { suggestion: candidate.suggestion, distance }
  }
  return best?.suggestion
}

export function editDistance(a: string, b: string): number {
  // rows[i][j]: distance between the first i characters of a and the first j of b.
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1)
      rows[i]![j] = best
    }
  }
  return rows[a.length]![b.length]!
}
