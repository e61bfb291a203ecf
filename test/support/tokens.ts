/** JWTs for tests, signed with jose the way an identity provider would. */
import { SignJWT } from 'jose'

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256!'

export async function tokenFor(userId: string, options: { expiresIn?: string | number; secret?: string; claims?: Record<string, unknown> } = {}): Promise<string> {
  return new SignJWT({ ...options.claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '1h')
    .sign(new TextEncoder().encode(options.secret ?? TEST_JWT_SECRET))
}
