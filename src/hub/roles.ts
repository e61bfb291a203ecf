/**
 * The roles a caller holds, read from the claims that carry them: `role` and `roles` (as
 * identity providers write them) and the .NET role claim type, each a string or a list.
 */
const ROLE_CLAIMS = ['role', 'roles', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role']

export function rolesOf(claims: Readonly<Record<string, unknown>>): ReadonlySet<string> {
  return new Set(ROLE_CLAIMS.flatMap((name) => [claims[name]].flat().filter((role): role is string => typeof role === 'string')))
}

/** True when the caller holds at least one of `roles`. */
export function holdsAnyRole(claims: Readonly<Record<string, unknown>>, roles: readonly string[]): boolean {
  const held = rolesOf(claims)
  return roles.some((role) => held.has(role))
}
