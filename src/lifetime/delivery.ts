import type { DeliveryShaping } from './delivery-shaping.js'

/** Who a server-to-client message is for. Ids and names are opaque strings, never subjects. */
export type DeliveryTarget =
  | { readonly kind: 'all'; readonly except?: readonly string[] }
  | { readonly kind: 'connections'; readonly ids: readonly string[] }
  | { readonly kind: 'users'; readonly ids: readonly string[] }
  | { readonly kind: 'groups'; readonly names: readonly string[]; readonly except?: readonly string[] }

/** A change of group membership, by connection or by user (all the user's current connections). */
export type GroupChange =
  | { readonly op: 'add' | 'remove'; readonly group: string; readonly connectionId: string }
  | { readonly op: 'add' | 'remove'; readonly group: string; readonly userId: string }

/**
 * Delivers hub messages. The local implementation reaches this node's connections; the cluster
 * one reaches every node's. Hub code gets whichever fits its context.
 */
export interface Delivery {
  /**
   * `shaping` says when (spread, collapsed), apart from `target` which says who: every node
   * applies it to the connections it holds.
   */
  send(target: DeliveryTarget, method: string, args: readonly unknown[], shaping?: DeliveryShaping): Promise<void>
  changeGroup(change: GroupChange): Promise<void>
}
