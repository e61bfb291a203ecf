/** Tables as the bench prints them: fixed-width text for the terminal, Markdown for the docs. */
export function textGrid(head: readonly string[], lines: ReadonlyArray<readonly string[]>): string {
  const all = [head, ...lines]
  const widths = head.map((_, i) => Math.max(...all.map((l) => (l[i] ?? '').length)))
  const fmt = (l: readonly string[]): string => l.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()
  return [fmt(head), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(fmt)].join('\n')
}

export function markdownGrid(head: readonly string[], lines: ReadonlyArray<readonly string[]>): string {
  return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...lines.map((l) => `| ${l.join(' | ')} |`)].join('\n')
}
