// A client that invokes `publish` as fast as its socket takes it, run as its own process so that
// its loop and the Completions it reads do not share an event loop with the bystanders measuring
// latency in the runner. Usage: node invoke-flooder.mjs <ws url with access_token> <ms>.
// Prints one JSON line: invocations sent, completions by kind, whether the node closed it.
import WebSocket from 'ws'

const RS = '\u001e'
const [url, durationArg] = process.argv.slice(2)
const duration = Number(durationArg)
const result = { invoked: 0, ok: 0, rateLimited: 0, queueFull: 0, other: 0, closedByServer: false, closeError: undefined, seconds: 0 }
// Bounded whatever happens: the runner also kills us by pid.
setTimeout(() => finish(), duration + 5000).unref()

const ws = new WebSocket(url, { perMessageDeflate: false })
ws.on('error', () => undefined)
ws.once('open', () => ws.send(`{"protocol":"json","version":1}${RS}`))
let started = false
ws.on('message', (data) => {
  for (const record of data.toString().split(RS)) {
    if (!record) continue
    if (!started) {
      started = true
      void flood()
      continue
    }
    const m = JSON.parse(record)
    if (m.type === 3) {
      if (m.error === undefined) result.ok++
      else if (m.error.includes('Too many invocations:')) result.rateLimited++
      else if (m.error.includes('Too many invocations are waiting')) result.queueFull++
      else result.other++
    } else if (m.type === 7) {
      result.closedByServer = true
      result.closeError = m.error
    }
  }
})
ws.once('close', () => {
  if (!finishing) result.closedByServer = true
  finish()
})

async function flood() {
  const start = performance.now()
  while (performance.now() - start < duration && ws.readyState === WebSocket.OPEN) {
    for (let i = 0; i < 200 && ws.bufferedAmount < 1024 * 1024; i++) {
      ws.send(`{"type":1,"invocationId":"${++result.invoked}","target":"publish","arguments":["chaos.flood",${result.invoked}]}${RS}`)
    }
    await new Promise((resolve) => setImmediate(resolve))
  }
  result.seconds = (performance.now() - start) / 1000
  // Read the last Completions, then leave.
  setTimeout(() => finish(), 1000)
}

let finishing = false
function finish() {
  if (finishing) return
  finishing = true
  process.stdout.write(JSON.stringify(result) + '\n')
  ws.terminate()
  process.exit(0)
}
