/**
 * Client invocations from a load worker: every ready client calls `publish("bench.p<phase>", tag)`
 * in a closed loop, one call in flight per client (as a page awaiting `invoke` does), for a bounded
 * time, then waits (bounded) for the calls still in flight. The tag `i<pid>_<client>_<id>` is unique
 * per call, so the service side can count every call that reached NATS exactly once.
 * SignalR: an Invocation frame answered by a Completion; Socket.IO: `42<id>["publish",...]` answered
 * by the ack `43<id>[]`.
 */
import { Histogram } from './histogram.js'
import { nowMicros } from './protocol.js'
import type { Client } from './raw-client.js'
import { sleep } from './procs.js'

export interface InvokeCounts {
  sent: number
  completed: number
  /** Completions that carried an error (a refused or failed call). */
  errors: number
  /** Completions for no call in flight: duplicates or strays. */
  unexpected: number
  /** Calls still without a completion when the drain ended. */
  missing: number
  seconds: number
  histogram: ReturnType<Histogram['toJSON']>
}

let running = false
let topic = ''
let counts = { sent: 0, completed: 0, errors: 0, unexpected: 0 }
let histogram = new Histogram()

function invoke(client: Client, index: number): void {
  const id = client.nextInvocation++
  client.pending = id
  client.pendingAt = nowMicros()
  const tag = `i${process.pid}_${index}_${id}`
  client.ws.send(
    client.kind === 'socketio'
      ? `42${id}["publish","${topic}","${tag}"]`
      : `{"type":1,"invocationId":"${id}","target":"publish","arguments":["${topic}","${tag}"]}\x1e`,
  )
  counts.sent += 1
}

/** Called by the worker for every completion a client reads. */
export function onCompletion(client: Client, index: number, id: number, error: boolean, now: number): void {
  if (id !== client.pending) {
    counts.unexpected += 1
    return
  }
  client.pending = -1
  counts.completed += 1
  if (error) counts.errors += 1
  histogram.record(now - client.pendingAt)
  if (running && client.ws.readyState === client.ws.OPEN) invoke(client, index)
}

export async function runInvocations(clients: readonly Client[], phase: number, durationMs: number, drainMs: number): Promise<InvokeCounts> {
  topic = `bench.p${phase}`
  counts = { sent: 0, completed: 0, errors: 0, unexpected: 0 }
  histogram = new Histogram()
  const t0 = performance.now()
  running = true
  clients.forEach((client, index) => {
    client.pending = -1
    if (client.ready) invoke(client, index)
  })
  await sleep(durationMs)
  running = false
  const deadline = performance.now() + drainMs
  while (performance.now() < deadline && clients.some((c) => c.pending !== -1)) await sleep(5)
  const seconds = (performance.now() - t0) / 1000
  const missing = clients.filter((c) => c.pending !== -1).length
  for (const client of clients) client.pending = -1
  return { ...counts, missing, seconds, histogram: histogram.toJSON() }
}
