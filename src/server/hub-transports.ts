/**
 * Which transports a hub serves (`@Hub({ transports })`, the `hubs.transports` setting): what
 * negotiate offers, and the refusal of a request for another, with ASP.NET Core's status and text
 * (HttpConnectionDispatcher: 404, "<transport> transport not supported by this end point type").
 */
import type { HubTransport } from '../config/config.js'
import type { AvailableTransport } from '../protocol/negotiate.js'

/** In the order ASP.NET Core lists them, with their transfer formats. */
const TRANSPORTS: readonly AvailableTransport[] = [
  { transport: 'WebSockets', transferFormats: ['Text', 'Binary'] },
  { transport: 'ServerSentEvents', transferFormats: ['Text'] },
  { transport: 'LongPolling', transferFormats: ['Text', 'Binary'] },
]

export class HubTransports {
  /** What negotiate lists. */
  readonly available: readonly AvailableTransport[]

  constructor(private readonly served: readonly HubTransport[]) {
    this.available = TRANSPORTS.filter((t) => served.includes(t.transport as HubTransport))
  }

  /** The 404 text for a transport the hub does not serve; undefined when it does. */
  refusal(name: HubTransport): string | undefined {
    return this.served.includes(name) ? undefined : `${name} transport not supported by this end point type`
  }
}
