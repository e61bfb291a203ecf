// Preloaded (`node --import`) into an IMService node under chaos test: answers `mem` requests on
// the IPC channel with process.memoryUsage() after a full GC, so the runner can read the heap of
// a separate process (RSS alone is read from /proc). It adds nothing to the node's own work.
process.on('message', (message) => {
  if (message !== 'mem') return
  if (typeof globalThis.gc === 'function') {
    globalThis.gc()
    globalThis.gc()
  }
  const { rss, heapUsed, heapTotal, external } = process.memoryUsage()
  process.send?.({ kind: 'mem', rss, heapUsed, heapTotal, external })
})
// The channel must not keep a node alive that is asked to stop.
process.channel?.unref()
