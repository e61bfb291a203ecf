/**
 * An HttpClient for the official client that can hold back its next long poll: the client's own
 * DefaultHttpClient does every request, but a GET sent after `holdNext()` waits until released.
 * Between the answer to one poll and the next, the server has no poll of that client waiting; this
 * makes that moment last as long as a test needs (a slow network or a busy browser tab would).
 */
import * as signalR from '@microsoft/signalr'

export interface HeldPoll {
  /** Resolves once the client has sent the held poll (it has not reached the server). */
  readonly sent: Promise<void>
  /** Lets the held poll go to the server. */
  release(): void
}

export class HeldPolls extends signalR.HttpClient {
  readonly #inner = new signalR.DefaultHttpClient(signalR.NullLogger.instance)
  #next: { markSent: () => void; released: Promise<void> } | undefined

  /** Holds the next GET this client sends. */
  holdNext(): HeldPoll {
    let markSent!: () => void
    let release!: () => void
    const sent = new Promise<void>((resolve) => (markSent = resolve))
    const released = new Promise<void>((resolve) => (release = resolve))
    this.#next = { markSent, released }
    return { sent, release }
  }

  override async send(request: signalR.HttpRequest): Promise<signalR.HttpResponse> {
    const held = request.method === 'GET' ? this.#next : undefined
    if (held) {
      this.#next = undefined
      held.markSent()
      // A client that stops aborts its poll: a held one must let go then too (the inner client sees the abort).
      const aborted = new Promise<void>((resolve) => {
        if (request.abortSignal) request.abortSignal.onabort = () => resolve()
      })
      await Promise.race([held.released, aborted])
    }
    return this.#inner.send(request)
  }

  override getCookieString(url: string): string {
    return this.#inner.getCookieString(url)
  }
}

export interface HeldLongPollingClient {
  readonly client: signalR.HubConnection
  readonly polls: HeldPolls
  /** How many times the client started reconnecting. */
  reconnects(): number
}

/**
 * A started official client of `userId` on long polling through a HeldPolls, with automatic
 * reconnect on (so a test sees whether a server close brings it back). The caller stops it.
 */
export async function startHeldLongPolling(hubUrl: string, accessToken: () => Promise<string>): Promise<HeldLongPollingClient> {
  const polls = new HeldPolls()
  const client = new signalR.HubConnectionBuilder()
    .withUrl(hubUrl, { transport: signalR.HttpTransportType.LongPolling, httpClient: polls, accessTokenFactory: accessToken })
    .withAutomaticReconnect([0, 100, 200, 500])
    .configureLogging(signalR.LogLevel.None)
    .build()
  let reconnecting = 0
  client.onreconnecting(() => reconnecting++)
  await client.start()
  return { client, polls, reconnects: () => reconnecting }
}
