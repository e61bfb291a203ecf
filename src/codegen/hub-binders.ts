/**
 * A hub's definition in the model -> the checks the server runs before hub code: one Ajv
 * validator per method (its arguments as a tuple), per client-stream parameter (one item) and
 * per `@Subscribe` handler (the payload), each compiled once at start-up. A value is checked
 * inside a one-element array or the arguments array, so that a reviving keyword can replace even
 * the top-level value (Ajv writes through the parent). Types that say nothing (`unknown`) compile
 * to nothing and cost nothing.
 */
import type { ErrorObject, ValidateFunction } from 'ajv'
import type { BindingFailure, HubBindings, MethodBinding, ValueBinder } from '../hub/binding.js'
import { createBinderAjv } from './binder-keywords.js'
import { admitsNull, BinderSchemas } from './binder-schema.js'
import type { BinderSchema } from './binder-schema.js'
import type { HubDefinition, HubMethodModel, Parameter, TypeDeclaration, TypeRef } from './model.js'
import { messageOf } from '../errors.js'

type Compile = (schema: BinderSchema, member: string) => ValidateFunction | undefined

/**
 * `warn` hears of a schema Ajv could not compile (a gap in this module, never the author's
 * fault): that one method or handler is left unchecked rather than the server refusing to start.
 */
export function compileHubBindings(hub: HubDefinition, types: Readonly<Record<string, TypeDeclaration>>, warn: (message: string) => void = () => {}): HubBindings {
  const schemas = new BinderSchemas(types)
  const ajv = createBinderAjv()
  const compile: Compile = (schema, member) => {
    try {
      return ajv.compile(schemas.root(schema) as object)
    } catch (error) {
      warn(`${hub.className}.${member}: its types could not be compiled for checking (${messageOf(error)}); it is not type-checked`)
      return undefined
    }
  }

  const methods = new Map<string, MethodBinding>()
  for (const method of hub.methods) methods.set(method.name.toLowerCase(), methodBinding(method, schemas, compile))
  const subscriptions = new Map<string, ValueBinder>()
  for (const subscription of hub.subscriptions) {
    const binder = valueBinder(subscription.payload, 'payload', subscription.handler, schemas, compile)
    if (binder) subscriptions.set(subscription.handler, binder)
  }
  return {
    method: (name) => methods.get(name.toLowerCase()),
    subscription: (propertyKey) => subscriptions.get(propertyKey),
  }
}

function methodBinding(method: HubMethodModel, schemas: BinderSchemas, compile: Compile): MethodBinding {
  const { parameters } = method
  const rest = parameters.some((p) => p.rest)
  const arity = { min: parameters.filter((p) => !p.optional && !p.rest).length, max: rest ? Infinity : parameters.length }
  const sent = parameters.filter((p) => !p.stream)
  const streamItems = parameters.filter((p) => p.stream).map((p) => valueBinder(p.type, p.name, method.name, schemas, compile))
  const fixed = sent.filter((p) => !p.rest)
  const restParameter = sent.find((p) => p.rest)
  const items = fixed.map((p) => optionalSchema(p, schemas.of(p.type)))
  const restItems = restParameter === undefined ? true : restParameter.type.kind === 'array' ? schemas.of(restParameter.type.element) : true
  if (!items.some(BinderSchemas.checks) && !BinderSchemas.checks(restItems)) return { arity, streamItems }
  // Arity is checked before (with the client streams counted), so only the types are left here.
  const validate = compile(items.length === 0 ? { type: 'array', items: restItems } : { type: 'array', items, additionalItems: restItems }, method.name)
  if (!validate) return { arity, streamItems }
  const nullable = fixed.flatMap((p, i) => (nullIsAbsent(p) ? [i] : []))
  return {
    arity,
    streamItems,
    bindArguments: (args) => {
      if (validate(args)) {
        // A null sent for an optional parameter is the parameter left out (JSON writes undefined as null).
        for (const i of nullable) if (args[i] === null) args[i] = undefined
        return undefined
      }
      return failureOf(validate.errors, (index) => (index < fixed.length ? fixed[index]!.name : (restParameter?.name ?? `arg${index}`)))
    },
  }
}

/** An optional parameter may be sent as null: it reads as left out. */
function optionalSchema(parameter: Parameter, schema: BinderSchema): BinderSchema {
  if (!nullIsAbsent(parameter) || schema === true) return schema
  return { if: { type: 'null' }, then: true, else: schema }
}

function nullIsAbsent(parameter: Parameter): boolean {
  return parameter.optional === true && !admitsNull(parameter.type)
}

function valueBinder(type: TypeRef, name: string, member: string, schemas: BinderSchemas, compile: Compile): ValueBinder | undefined {
  const schema = schemas.of(type)
  if (!BinderSchemas.checks(schema)) return undefined
  const validate = compile({ type: 'array', items: [schema] }, member)
  if (!validate) return undefined
  return (value) => {
    const holder = [value]
    return validate(holder) ? { value: holder[0] } : { failure: failureOf(validate.errors, () => name) }
  }
}

/** The failure Ajv reports, with the leading array index turned into the parameter's name. */
function failureOf(errors: readonly ErrorObject[] | null | undefined, nameAt: (index: number) => string): BindingFailure {
  // Ajv stops at the first failure; `if` (a nullable optional parameter) adds a line about itself last.
  const all = (errors ?? []).filter((e) => e.keyword !== 'if')
  const error = all[all.length - 1]
  const [, index = '0', ...inside] = (error?.instancePath ?? '').split('/')
  return {
    parameter: nameAt(Number(index)),
    path: inside.length > 0 ? `/${inside.join('/')}` : '',
    message: error === undefined ? 'does not match its declared type' : error.keyword === 'anyOf' ? unionMessage(all, error.instancePath) : (error.message ?? 'does not match its declared type'),
  }
}

/** `must be string or number` from the branches of a union that failed at the same place. */
function unionMessage(errors: readonly ErrorObject[], at: string): string {
  const simple = errors.filter((e) => e.instancePath === at && (e.keyword === 'type' || e.keyword === 'const'))
  if (simple.length === 0) return 'must match one of the types of its union'
  const options = simple.map((e) => (e.keyword === 'type' ? String(e.params['type']) : JSON.stringify(e.params['allowedValue'])))
  return `must be ${[...new Set(options)].join(' or ')}`
}
