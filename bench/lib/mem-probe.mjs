// Preloaded (`node --expose-gc --import`) into every server under test, IMService and references
// alike: answers `mem` on the IPC channel with process.memoryUsage() after two full GCs, so the
// orchestrator reads the heap of another process the same way for all of them (IMService exposes
// no heap figure of its own). It does nothing until asked.
process.on('message', (message) => {
  if (message !== 'mem') return
  if (typeof globalThis.gc === 'function') {
    globalThis.gc()
    globalThis.gc()
  }
  const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage()
  process.send?.({ kind: 'mem', rss, heapUsed, heapTotal, external, arrayBuffers })
})
// The channel must not keep alive a server asked to stop.
process.channel?.unref()
