/**
 * Breaking changes between the committed hub model and the new one: what would break a frontend
 * or a service that was built against the committed contract. Client-to-server data (method
 * arguments, @Subscribe payloads) may widen but not narrow; server-to-client data (results,
 * client method arguments, forwarded arguments) may narrow but not widen; removals always break.
 */
import type { HubDefinition, HubModel, Parameter, PublicationModel, TupleElement, TypeRef } from './model.js'
import { printTuple, printType } from './ts-printer.js'
import { Compatibility } from './type-compat.js'

export interface BreakingChange {
  readonly hub: string
  /** The hub's source file (project-relative). */
  readonly file: string
  readonly message: string
}

export function breakingChanges(before: HubModel, after: HubModel): BreakingChange[] {
  const changes: BreakingChange[] = []
  // old -> new: what old callers send must still be accepted.
  const widening = new Compatibility(before.types, after.types)
  // new -> old: what the new hub sends must still fit what old receivers expect.
  const narrowing = new Compatibility(after.types, before.types)
  const afterHubs = new Map(after.hubs.map((h) => [h.name, h]))
  for (const old of before.hubs) {
    const now = afterHubs.get(old.name)
    const report = (message: string): void => void changes.push({ hub: old.className, file: now?.file ?? old.file, message })
    if (!now) {
      report(`hub "${old.name}" (${old.className}) was removed`)
      continue
    }
    if (now.path !== old.path) report(`route changed from ${old.path} to ${now.path}`)
    compareMethods(old, now, widening, narrowing, report)
    const clientMethods = byName(now.clientMethods)
    for (const m of old.clientMethods) {
      const n = clientMethods.get(m.name.toLowerCase())
      if (!n) report(`client method ${m.name} was removed`)
      else if (!narrowing.assignable(tuple(n.parameters), tuple(m.parameters))) {
        report(`client method ${m.name} arguments ${change(printTuple(elements(m.parameters)), printTuple(elements(n.parameters)))}`)
      }
      // What clients built against the old model answer must still be what hub code expects.
      if (n?.returns && !m.returns) report(`client method ${m.name} now expects a result, which clients built before do not give`)
      else if (n?.returns && m.returns && !widening.assignable(m.returns, n.returns)) report(`client method ${m.name} result ${change(printType(m.returns), printType(n.returns), true)}`)
    }
    const subscriptions = new Map(now.subscriptions.map((s) => [s.subject, s]))
    for (const s of old.subscriptions) {
      const n = subscriptions.get(s.subject)
      if (!n) report(`subscription ${s.subject} (${s.handler}) was removed`)
      else if (!widening.assignable(s.payload, n.payload)) report(`payload of ${s.subject} ${change(printType(s.payload), printType(n.payload), true)}`)
    }
    comparePublications(old.publications, now.publications, narrowing, report)
  }
  return changes
}

function compareMethods(old: HubDefinition, now: HubDefinition, widening: Compatibility, narrowing: Compatibility, report: (m: string) => void): void {
  const methods = byName(now.methods)
  for (const m of old.methods) {
    const n = methods.get(m.name.toLowerCase())
    if (!n) {
      report(`method ${m.name} was removed`)
      continue
    }
    if (Boolean(m.stream) !== Boolean(n.stream)) report(`method ${m.name} ${n.stream ? 'became' : 'is no longer'} a stream`)
    n.parameters.forEach((p, i) => {
      const was = m.parameters[i]
      if (!was && !p.optional && !p.rest) report(`method ${m.name} has a new required parameter ${p.name}`)
      if (was && !widening.assignable(was.type, p.type)) report(`method ${m.name} parameter ${p.name} ${change(printType(was.type), printType(p.type), true)}`)
      if (was && was.optional && !p.optional) report(`method ${m.name} parameter ${p.name} is no longer optional`)
    })
    if (m.parameters.length > n.parameters.length && !n.parameters.some((p) => p.rest)) {
      report(`method ${m.name} no longer takes ${m.parameters.slice(n.parameters.length).map((p) => p.name).join(', ')}`)
    }
    if (!narrowing.assignable(n.returns, m.returns)) report(`method ${m.name} result ${change(printType(m.returns), printType(n.returns))}`)
  }
}

function comparePublications(old: readonly PublicationModel[], now: readonly PublicationModel[], narrowing: Compatibility, report: (m: string) => void): void {
  const bySubject = new Map(now.map((p) => [p.subject, p]))
  for (const p of old) {
    const n = bySubject.get(p.subject)
    if (!n) {
      report(`IMService no longer publishes ${p.subject}`)
      continue
    }
    if (p.kind !== 'invocation' || n.kind !== 'invocation') continue
    const invocations = new Map(n.invocations.map((i) => [i.method, i]))
    for (const i of p.invocations) {
      const ni = invocations.get(i.method)
      if (!ni) report(`invocations of ${i.method} are no longer published on ${p.subject}`)
      else if (!narrowing.assignable(ni.args, i.args)) report(`arguments of ${i.method} on ${p.subject} ${change(printType(i.args), printType(ni.args))}`)
    }
  }
}

/** A named type that kept its name but not its shape reads better without "from T to T". */
function change(before: string, after: string, narrowed = false): string {
  const verb = narrowed ? 'narrowed or changed' : 'changed'
  return before === after ? `${verb}: the shape of ${before} is no longer compatible` : `${verb} from ${before} to ${after}`
}

function byName<T extends { name: string }>(items: readonly T[]): Map<string, T> {
  return new Map(items.map((i) => [i.name.toLowerCase(), i]))
}

function elements(parameters: readonly Parameter[]): TupleElement[] {
  return parameters.map((p) => ({ type: p.type, name: p.name, ...(p.optional ? { optional: true } : {}), ...(p.rest ? { rest: true } : {}) }))
}

function tuple(parameters: readonly Parameter[]): TypeRef {
  return { kind: 'tuple', elements: elements(parameters) }
}

export function formatBreakingChange(change: BreakingChange): string {
  return `${change.file}: ${change.hub}: ${change.message}`
}
