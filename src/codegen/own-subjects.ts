/**
 * Words and types for the subjects IMService serves and publishes of its own (events,
 * presence requests and commands), shared by the emitters so that every output says the same.
 */
import { PRESENCE_ERROR_TYPE } from './model.js'
import type { EventKind, OperationModel, TypeRef } from './model.js'

/** What an event says, for doc comments of every emitter. */
export function describeEvent(kind: EventKind, hubClass: string): string {
  switch (kind) {
    case 'connected':
      return `a connection to ${hubClass} opened`
    case 'disconnected':
      return `a connection to ${hubClass} closed`
    case 'online':
      return `a user's first connection to ${hubClass} in the cluster opened`
    case 'offline':
      return `a user's last connection to ${hubClass} in the cluster closed`
  }
}

/** What an operation does, for doc comments of every emitter. */
export function describeOperation(o: OperationModel): string {
  switch (o.name) {
    case 'disconnect':
      return 'close connections of users or by id, with a reason, for good'
    case 'presenceUser':
      return "where a user is connected, every node's connections"
    case 'presenceUsers':
      return 'which of up to 1000 users are connected, and how often'
    case 'presenceGroup':
      return 'how many connections a group has, and which users'
    default:
      return o.subject
  }
}

/** The request, answer and payload types of operations, and the error answer of requests. */
export function operationTypes(operations: readonly OperationModel[]): TypeRef[] {
  const types = operations.flatMap((o) => (o.kind === 'request' ? [o.request, o.answer] : [o.payload]))
  return operations.some((o) => o.kind === 'request') ? [...types, { kind: 'ref', name: PRESENCE_ERROR_TYPE }] : types
}
