/**
 * The bench's access tokens: HS256 JWTs whose `sub` is the user id `u<index>`, signed with one
 * secret every target is given (IM_JWT_SECRET for IMService, BENCH_JWT_SECRET for the references),
 * valid for two hours, longer than any run. Minted once per run, on the load side.
 */
import { SignJWT } from 'jose'

export const JWT_SECRET = 'bench-only-hs256-secret-0123456789abcdef'
const KEY = new TextEncoder().encode(JWT_SECRET)

export function userId(index: number): string {
  return `u${index}`
}

/** One token per user index, in order. */
export async function mintTokens(users: readonly number[]): Promise<string[]> {
  const exp = Math.floor(Date.now() / 1000) + 2 * 3600
  return Promise.all(users.map((u) => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(userId(u)).setExpirationTime(exp).sign(KEY)))
}
