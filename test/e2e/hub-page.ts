/**
 * A Chromium page running page.html, seen from the test: each method runs the page's code through
 * `page.evaluate` with a bound on both sides, and failures carry the page's console output.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { withTimeout } from '../support/clients.js'

export type TransportName = 'WebSockets' | 'ServerSentEvents' | 'LongPolling'
export type ProtocolName = 'json' | 'messagepack'

export interface PageConnectOptions {
  readonly url: string
  /** Forces one transport; omit for the client's default order (WebSockets, SSE, long polling). */
  readonly transport?: TransportName
  readonly protocol: ProtocolName
  readonly accessToken: string
  /** Replaces `window.WebSocket` with a constructor that throws, before the connection is built. */
  readonly breakWebSocket?: boolean
}

/** What page.html puts on `window.e2e`. */
interface PageApi {
  connect(options: PageConnectOptions & { timeoutMs: number }): Promise<string>
  nextHello(timeoutMs: number): Promise<unknown[]>
  publish(topic: string, payload: unknown, timeoutMs: number): Promise<void>
  stop(timeoutMs: number): Promise<void>
}

const WAIT_MS = 10_000
// The Node-side bound is a little longer, so the page's own (more precise) timeout wins.
const OUTER_WAIT_MS = WAIT_MS + 2_000
const LOG_TAIL = 30

export class HubPage {
  private readonly log: string[] = []

  private constructor(
    private readonly context: BrowserContext,
    private readonly page: Page,
  ) {
    page.on('console', (message) => this.log.push(`${message.type()}: ${message.text()}`))
    page.on('pageerror', (error) => this.log.push(`pageerror: ${error.message}`))
  }

  /** Opens page.html at `path` of `siteUrl` in a context of its own (no cookies or storage shared). */
  static async open(browser: Browser, siteUrl: string, path = '/'): Promise<HubPage> {
    const context = await browser.newContext()
    try {
      const page = await context.newPage()
      const hubPage = new HubPage(context, page)
      await page.goto(`${siteUrl}${path}`, { timeout: WAIT_MS })
      await hubPage.run('the SignalR bundles to load', () =>
        page.waitForFunction(() => 'e2e' in globalThis && 'signalR' in globalThis, undefined, { timeout: WAIT_MS }),
      )
      return hubPage
    } catch (error) {
      await context.close()
      throw error
    }
  }

  /** Builds and starts the page's connection; resolves with its connection id. */
  connect(options: PageConnectOptions): Promise<string> {
    const args = { ...options, timeoutMs: WAIT_MS }
    return this.run('connect', () => this.page.evaluate((a) => (globalThis as unknown as { e2e: PageApi }).e2e.connect(a), args))
  }

  /** The arguments of the next `hello` the page receives. */
  nextHello(): Promise<unknown[]> {
    return this.run('hello', () => this.page.evaluate((ms) => (globalThis as unknown as { e2e: PageApi }).e2e.nextHello(ms), WAIT_MS))
  }

  /** `connection.invoke('publish', topic, payload)` in the page. */
  publish(topic: string, payload: unknown): Promise<void> {
    const args = { topic, payload, ms: WAIT_MS }
    return this.run('publish', () => this.page.evaluate((a) => (globalThis as unknown as { e2e: PageApi }).e2e.publish(a.topic, a.payload, a.ms), args))
  }

  /** Stops the connection (if any) and closes the page's context. */
  async close(): Promise<void> {
    try {
      await this.run('stop', () => this.page.evaluate((ms) => (globalThis as unknown as { e2e: PageApi }).e2e.stop(ms), WAIT_MS))
    } finally {
      await this.context.close()
    }
  }

  private async run<T>(what: string, action: () => Promise<T>): Promise<T> {
    try {
      return await withTimeout(action(), OUTER_WAIT_MS, `the page: ${what}`)
    } catch (error) {
      const tail = this.log.slice(-LOG_TAIL)
      const pageLog = tail.length > 0 ? `\n--- page console (tail) ---\n${tail.join('\n')}` : ''
      throw new Error(`${what} failed in the page: ${(error as Error).message}${pageLog}`, { cause: error })
    }
  }
}
