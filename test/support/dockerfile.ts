/**
 * Reads a Dockerfile into stages and instructions, enough to check what an image will do without
 * a Docker daemon: line continuations joined, comments and parser directives dropped, the exec
 * (JSON) form of CMD / ENTRYPOINT / HEALTHCHECK CMD told apart from the shell form.
 */
export interface Instruction {
  /** Upper case: FROM, RUN, COPY, ENV, USER, CMD, ... */
  readonly keyword: string
  /** Everything after the keyword, continuations joined with a space. */
  readonly args: string
}

export interface Stage {
  /** The `AS` name, or the stage's index as text. */
  readonly name: string
  readonly base: string
  readonly instructions: readonly Instruction[]
}

export function parseDockerfile(text: string): Stage[] {
  const stages: { name: string; base: string; instructions: Instruction[] }[] = []
  let pending = ''
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    // Comments may sit between continued lines; they are not part of the instruction.
    if (line.startsWith('#')) continue
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1) + ' '
      continue
    }
    const full = (pending + line).trim()
    pending = ''
    if (full === '') continue
    const match = /^(\S+)\s*(.*)$/s.exec(full)!
    const instruction = { keyword: match[1]!.toUpperCase(), args: match[2]!.replace(/\s+/g, ' ').trim() }
    if (instruction.keyword === 'FROM') {
      const [base = '', as, name] = instruction.args.split(' ')
      stages.push({ name: as?.toUpperCase() === 'AS' && name ? name : String(stages.length), base, instructions: [] })
      continue
    }
    if (stages.length === 0) throw new Error(`${instruction.keyword} before the first FROM`)
    stages[stages.length - 1]!.instructions.push(instruction)
  }
  return stages
}

/** The JSON array of an exec-form instruction, or undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined
  const parsed: unknown = JSON.parse(args)
  if (!Array.isArray(parsed) || !parsed.every((part) => typeof part === 'string')) return undefined
  return parsed as string[]
}

/** `ENV A=1 B=2` (and the older `ENV A 1`) of a stage, in order. */
export function stageEnv(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {}
  for (const { keyword, args } of stage.instructions) {
    if (keyword !== 'ENV') continue
    if (!args.includes('=')) {
      const [name = '', ...value] = args.split(' ')
      env[name] = value.join(' ')
      continue
    }
    for (const pair of args.match(/[^\s=]+=("[^"]*"|\S*)/g) ?? []) {
      const at = pair.indexOf('=')
      env[pair.slice(0, at)] = pair.slice(at + 1).replace(/^"(.*)"$/, '$1')
    }
  }
  return env
}
