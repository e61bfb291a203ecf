/**
 * A tiny static file server for the browser suite: a fixed table of paths to files, on loopback
 * port 0, so the test page has an origin of its own, different from the IMService node's.
 */
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface StaticFile {
  /** Absolute path on disk; several are served one after the other, as a frontend bundles them. */
  readonly file: string | readonly string[]
  readonly contentType: string
}

export interface StaticServer extends AsyncDisposable {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  close(): Promise<void>
}

/** Serves `files` (URL path to file) with GET; everything else is 404. */
export async function startStaticServer(files: Readonly<Record<string, StaticFile>>): Promise<StaticServer> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    const entry = files[path]
    if (req.method !== 'GET' || !entry) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found')
      return
    }
    const parts = typeof entry.file === 'string' ? [entry.file] : entry.file
    Promise.all(parts.map((part) => readFile(part))).then(
      (bodies) => res.writeHead(200, { 'Content-Type': entry.contentType, 'Cache-Control': 'no-store' }).end(Buffer.concat(bodies.flatMap((body) => [body, Buffer.from('\n')]))),
      (error: Error) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(error.message),
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      // The browser keeps connections alive; end them so close() does not wait for its idle timeout.
      server.closeAllConnections()
      server.close(() => resolve())
    })
  return { url: `http://127.0.0.1:${port}`, close, [Symbol.asyncDispose]: close }
}
