/**
 * What start-up learned of a hub's declared parameter types, as the dispatcher and the
 * subscriptions use it: how many arguments each method takes, and checks that refuse a value of
 * the wrong type (reviving Date and Uint8Array values from their wire forms as they go) before
 * hub code runs. The checks are built from the same hub model `im generate` reads from source.
 */

/** Why a value was refused: the parameter (or payload) and where inside it. */
export interface BindingFailure {
  /** The parameter's name as declared. */
  readonly parameter: string
  /** JSON Pointer into the value (`/sentAt`, `/items/0`), empty for the value itself. */
  readonly path: string
  /** What the value should have been (`must be string`). */
  readonly message: string
}

export interface Arity {
  readonly min: number
  /** Infinity when the method has a rest parameter. */
  readonly max: number
}

/** One value checked and revived, or refused. */
export type Bound = { readonly value: unknown; readonly failure?: undefined } | { readonly failure: BindingFailure }

/** Checks one value (a client-stream item, a service payload) against its declared type. */
export type ValueBinder = (value: unknown) => Bound

export interface MethodBinding {
  readonly arity: Arity
  /**
   * Checks the arguments a client sent (client streams excluded) and revives them in place;
   * undefined when they fit. Absent when no parameter's type says anything (`unknown`).
   */
  readonly bindArguments?: (args: unknown[]) => BindingFailure | undefined
  /** One per client-stream parameter, in order; absent where the item type is `unknown`. */
  readonly streamItems: readonly (ValueBinder | undefined)[]
}

/** A hub's bindings: methods by the name clients invoke, subscriptions by handler property. */
export interface HubBindings {
  method(name: string): MethodBinding | undefined
  subscription(propertyKey: string): ValueBinder | undefined
}
