import { describe, expect, it } from 'vitest'
import { extractAccessToken, type TokenHeaders } from '../../../src/auth/token.js'

describe('extractAccessToken', () => {
  const cases: ReadonlyArray<{ name: string; headers: TokenHeaders; query: string; expected: string | undefined }> = [
    { name: 'bearer header', headers: { authorization: 'Bearer abc.def.ghi' }, query: '', expected: 'abc.def.ghi' },
    { name: 'scheme in lower case', headers: { authorization: 'bearer abc' }, query: '', expected: 'abc' },
    { name: 'scheme in upper case with extra spaces', headers: { authorization: '  BEARER   abc  ' }, query: '', expected: 'abc' },
    { name: 'header wins over query', headers: { authorization: 'Bearer fromheader' }, query: 'access_token=fromquery', expected: 'fromheader' },
    { name: 'query when no header', headers: {}, query: 'access_token=fromquery&id=conn', expected: 'fromquery' },
    { name: 'query when header is another scheme', headers: { authorization: 'Basic dXNlcjpwYXNz' }, query: 'access_token=q', expected: 'q' },
    { name: 'query when bearer credential is empty', headers: { authorization: 'Bearer ' }, query: 'access_token=q', expected: 'q' },
    { name: 'query when header is the bare scheme', headers: { authorization: 'Bearer' }, query: 'access_token=q', expected: 'q' },
    { name: 'empty header and empty query', headers: { authorization: '' }, query: 'access_token=', expected: undefined },
    { name: 'nothing at all', headers: { authorization: undefined }, query: '', expected: undefined },
    { name: 'percent-encoded query value is decoded', headers: {}, query: 'access_token=a%2Bb', expected: 'a+b' },
    { name: 'first bearer of a header array', headers: { authorization: ['Basic x', 'Bearer second'] }, query: '', expected: 'second' },
    { name: 'credential with inner space kept for the verifier to refuse', headers: { authorization: 'Bearer a b' }, query: '', expected: 'a b' },
    { name: 'scheme must be a whole word', headers: { authorization: 'Bearerabc' }, query: '', expected: undefined },
  ]

  it.each(cases)('$name', ({ headers, query, expected }) => {
    expect(extractAccessToken(headers, new URLSearchParams(query))).toBe(expected)
  })
})
