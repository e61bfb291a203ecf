/**
 * Asks a node's health endpoints as a balancer or the kubelet would: a fresh TCP connection per
 * probe (no keep-alive pool that could outlive a listener), a bounded wait, the JSON body parsed.
 */
import { request } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'

export interface ProbeAnswer {
  readonly status: number
  readonly body: { readonly status?: string; readonly reasons?: readonly string[]; readonly [key: string]: unknown }
}

export function probe(base: string, path: string, timeoutMs = 2000): Promise<ProbeAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { agent: false, timeout: timeoutMs }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (text += chunk))
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as ProbeAnswer['body'] })
        } catch {
          reject(new Error(`${path} answered ${res.statusCode} with a body that is not JSON: ${text.slice(0, 200)}`))
        }
      })
    })
    req.on('timeout', () => req.destroy(new Error(`${path} did not answer within ${timeoutMs} ms`)))
    req.on('error', reject)
    req.end()
  })
}

/** Probes until `wanted` holds, at most `timeoutMs`; the last answer (or error) is in the failure. */
export async function probeUntil(base: string, path: string, wanted: (answer: ProbeAnswer) => boolean, timeoutMs: number): Promise<ProbeAnswer> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const answer = await probe(base, path)
      if (wanted(answer)) return answer
      last = answer
    } catch (error) {
      last = error instanceof Error ? error.message : error
    }
    await sleep(50)
  }
  throw new Error(`${base}${path} did not answer as wanted within ${timeoutMs} ms; last: ${JSON.stringify(last)}`)
}
