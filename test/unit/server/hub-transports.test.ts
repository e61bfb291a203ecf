import { describe, expect, it } from 'vitest'
import { HubTransports } from '../../../src/server/hub-transports.js'

describe('HubTransports', () => {
  it("lists a hub's transports in ASP.NET Core's order, with their transfer formats", () => {
    expect(new HubTransports(['LongPolling', 'WebSockets']).available).toEqual([
      { transport: 'WebSockets', transferFormats: ['Text', 'Binary'] },
      { transport: 'LongPolling', transferFormats: ['Text', 'Binary'] },
    ])
    expect(new HubTransports(['ServerSentEvents']).available).toEqual([{ transport: 'ServerSentEvents', transferFormats: ['Text'] }])
  })

  it('refuses the others with the text of ASP.NET Core', () => {
    const transports = new HubTransports(['LongPolling'])
    expect(transports.refusal('LongPolling')).toBeUndefined()
    expect(transports.refusal('WebSockets')).toBe('WebSockets transport not supported by this end point type')
    expect(transports.refusal('ServerSentEvents')).toBe('ServerSentEvents transport not supported by this end point type')
  })
})
