/**
 * Whether a caller may make a call, by the `@Authorize` rules of the hub and of the method (both
 * apply, as in ASP.NET Core): the roles are checked before the arguments are bound, the policies
 * after, since a policy may look at the arguments.
 */
import type { HubConnection } from '../connection/hub-connection.js'
import type { HubInvocation } from './hub.js'
import type { CallerScope } from './hub-instances.js'
import type { AuthorizeOptions } from './metadata.js'
import { holdsAnyRole } from './roles.js'

/** The policies of the hub's and the method's rules (see AuthorizeOptions.policy); one that throws refuses the call. */
export async function passesPolicy(rules: readonly AuthorizeOptions[], scope: CallerScope, invocation: HubInvocation): Promise<boolean> {
  for (const rule of rules) {
    if (!rule.policy) continue
    try {
      if ((await rule.policy(scope.context, invocation)) !== true) return false
    } catch {
      return false
    }
  }
  return true
}

/** A signed-in user who holds one of each rule's roles. */
export function isAuthorized(rules: readonly AuthorizeOptions[], connection: HubConnection): boolean {
  if (rules.length === 0) return true
  if (connection.userId === undefined) return false
  return rules.every((rule) => !rule.roles || rule.roles.length === 0 || holdsAnyRole(connection.principal.claims, rule.roles))
}
