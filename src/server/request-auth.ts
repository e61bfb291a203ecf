/**
 * Who a request comes from: the access token (Authorization header, else `access_token` query)
 * verified with the configured keys. No JWT configured: everyone is anonymous. A token that is
 * present but bad is refused even on hubs that allow anonymous users: silently downgrading a
 * broken login to anonymous hides the bug.
 */
import type { IncomingMessage } from 'node:http'
import type { TokenVerifier } from '../auth/jwt-verifier.js'
import { ANONYMOUS } from '../auth/principal.js'
import type { Principal } from '../auth/principal.js'
import { extractAccessToken } from '../auth/token.js'
import { ImError, ImErrorCode } from '../errors.js'

export class RequestAuthenticator {
  constructor(private readonly verifier: TokenVerifier | undefined) {}

  get enabled(): boolean {
    return this.verifier !== undefined
  }

  /** Throws ImError `IM_UNAUTHORIZED` with the reason. */
  async authenticate(req: IncomingMessage, query: URLSearchParams, requireUser: boolean): Promise<Principal> {
    const token = extractAccessToken(req.headers, query)
    if (token === undefined) {
      if (requireUser) throw new ImError(ImErrorCode.Unauthorized, 'an access token is required')
      return ANONYMOUS
    }
    if (!this.verifier) {
      if (requireUser) throw new ImError(ImErrorCode.Unauthorized, 'no token verification is configured')
      return ANONYMOUS
    }
    return this.verifier.verify(token)
  }
}
