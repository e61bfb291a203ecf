/** The contract gate: what would break frontends or services built against the committed model. */
import { describe, expect, it } from 'vitest'
import { breakingChanges } from '../../../src/codegen/contract-diff.js'
import type { HubDefinition, HubModel, TypeRef } from '../../../src/codegen/model.js'
import { sampleModel } from '../../fixtures/codegen/model.js'

type Edit = (hub: HubDefinition) => HubDefinition
const string: TypeRef = { kind: 'primitive', name: 'string' }

function edited(edit: Edit, types: Partial<HubModel['types']> = {}): HubModel {
  return { ...sampleModel, hubs: sampleModel.hubs.map(edit), types: { ...sampleModel.types, ...types } as HubModel['types'] }
}

function messages(after: HubModel): string[] {
  return breakingChanges(sampleModel, after).map((c) => `${c.file}: ${c.message}`)
}

describe('breakingChanges', () => {
  it('finds none between a model and itself', () => {
    expect(breakingChanges(sampleModel, sampleModel)).toEqual([])
  })

  it('reports a removed hub method with the hub file', () => {
    expect(messages(edited((h) => ({ ...h, methods: h.methods.filter((m) => m.name !== 'assign') })))).toEqual(['hubs/tickets-hub.ts: method assign was removed'])
  })

  it('reports a narrowed parameter type and a parameter that became required', () => {
    const after = edited((h) => ({
      ...h,
      methods: h.methods.map((m) => (m.name === 'assign'
        ? { ...m, parameters: [{ name: 'ticketId', type: { kind: 'literal', value: 'T-1' } }, { name: 'agent', type: string }, ...m.parameters.slice(2)] }
        : m)),
    }))
    expect(messages(after)).toEqual([
      "hubs/tickets-hub.ts: method assign parameter ticketId narrowed or changed from string to 'T-1'",
      'hubs/tickets-hub.ts: method assign parameter agent is no longer optional',
    ])
  })

  it('accepts a widened parameter and a new optional one', () => {
    const after = edited((h) => ({
      ...h,
      methods: h.methods.map((m) => (m.name === 'assign'
        ? { ...m, parameters: [{ name: 'ticketId', type: { kind: 'union', types: [string, { kind: 'primitive', name: 'number' }] } }, ...m.parameters.slice(1), { name: 'note', type: string, optional: true }] }
        : m)),
    }))
    expect(messages(after)).toEqual([])
  })

  it('reports a removed client method, a removed subscription and a subject no longer published', () => {
    const after = edited((h) => ({ ...h, clientMethods: [], subscriptions: [], publications: h.publications.filter((p) => p.kind !== 'invocation') }))
    expect(messages(after)).toEqual([
      'hubs/tickets-hub.ts: client method ticketChanged was removed',
      'hubs/tickets-hub.ts: subscription im.tickets.changed.* (changed) was removed',
      'hubs/tickets-hub.ts: IMService no longer publishes svc.tickets.assign',
    ])
  })

  it('reports a client method that now expects a result, or a narrower one', () => {
    const answering = (returns: TypeRef): HubModel => edited((h) => ({ ...h, clientMethods: h.clientMethods.map((m) => ({ ...m, returns })) }))
    expect(messages(answering(string))).toEqual(['hubs/tickets-hub.ts: client method ticketChanged now expects a result, which clients built before do not give'])
    expect(breakingChanges(answering({ kind: 'union', types: [string, { kind: 'primitive', name: 'null' }] }), answering(string)).map((c) => c.message)).toEqual([
      'client method ticketChanged result narrowed or changed from string | null to string',
    ])
    expect(breakingChanges(answering(string), answering({ kind: 'union', types: [string, { kind: 'primitive', name: 'null' }] }))).toEqual([])
  })

  it('follows named types: a payload property that became required breaks services that omit it', () => {
    const ticket = sampleModel.types.Ticket!
    if (ticket.kind !== 'interface') throw new Error('fixture changed')
    const stricter = { ...ticket, properties: ticket.properties.map((p) => (p.name === 'assignee' ? { ...p, optional: false } : p)) }
    expect(messages(edited((h) => h, { Ticket: stricter }))).toContain('hubs/tickets-hub.ts: payload of im.tickets.changed.* narrowed or changed: the shape of Ticket is no longer compatible')
  })

  it('treats string and Date, and string and bytes, as different types both ways: MessagePack, C# and generated TypeScript tell them apart', () => {
    const after = edited((h) => ({
      ...h,
      methods: h.methods.map((m) => (m.name === 'assign' ? { ...m, parameters: [{ name: 'ticketId', type: { kind: 'date' } }, ...m.parameters.slice(1)] } : m.name === 'attach' ? { ...m, parameters: [m.parameters[0]!, { name: 'file', type: string }] } : m)),
      clientMethods: h.clientMethods.map((m) => ({ ...m, parameters: m.parameters.map((p) => (p.name === 'at' ? { ...p, type: string } : p)) })),
    }))
    expect(messages(after)).toEqual([
      'hubs/tickets-hub.ts: method assign parameter ticketId narrowed or changed from string to Date',
      'hubs/tickets-hub.ts: method attach parameter file narrowed or changed from Uint8Array to string',
      'hubs/tickets-hub.ts: client method ticketChanged arguments changed from [ticket: Ticket, at: Date] to [ticket: Ticket, at: string]',
    ])
  })

  it('reports an enum that lost a member where clients send it', () => {
    const severity = { kind: 'enum' as const, name: 'Severity', file: 'hubs/tickets-hub.ts', members: [{ name: 'Minor', value: 1 }] }
    expect(messages(edited((h) => h, { Severity: severity }))).toEqual(['hubs/tickets-hub.ts: payload of im.tickets.changed.* narrowed or changed: the shape of Ticket is no longer compatible'])
  })
})
