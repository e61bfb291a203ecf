/**
 * The request snapshot behind this.context.http, on any query string and Cookie header: it never
 * throws, and a token sent as access_token (any case, any encoding of the name's letters) or in
 * Authorization never appears in it.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { OpeningRequest } from '../../src/connection/opening-request.js'
import { budget } from './fuzz-budget.js'

const TOKEN = 'tok.en-SECRET_9f3'
/** `access_token` with each letter in either case, some of them percent-encoded. */
const accessTokenName = fc
  .tuple(...[...'access_token'].map((letter) => fc.constantFrom(letter, letter.toUpperCase(), `%${letter.charCodeAt(0).toString(16).toUpperCase()}`)))
  .map((letters) => letters.join(''))
const queryPart = fc.oneof(fc.string(), fc.constant('id=x'), accessTokenName.map((name) => `${name}=${TOKEN}`))

describe('OpeningRequest on any input', () => {
  it('never throws and never shows the token', () => {
    fc.assert(
      fc.property(fc.array(queryPart, { maxLength: 8 }), fc.string(), fc.string(), (parts, cookie, header) => {
        const request = OpeningRequest.capture({ cookie, 'x-any': header, authorization: `Bearer ${TOKEN}` }, '/hub', `?${parts.join('&')}`, '127.0.0.1', 'WebSockets')
        const http = request.snapshot()
        expect(JSON.stringify(http)).not.toContain(TOKEN)
        expect(http.headers.authorization).toBe('[redacted]')
      }),
      budget(0x4e77, 300),
    )
  })
})

