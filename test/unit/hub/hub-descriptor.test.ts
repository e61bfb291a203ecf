import { describe, expect, it } from 'vitest'
import { ImError, ImErrorCode } from '../../../src/errors.js'
import { Authorize, ClientMethod, Forward, Hub, HubMethod, Subscribe } from '../../../src/hub/decorators.js'
import { defaultHubName, describeHub, isHubClass } from '../../../src/hub/hub-descriptor.js'
import { HubBase } from '../../../src/hub/hub.js'
import type { HubClass } from '../../../src/hub/hub.js'
import { hubMetadata } from '../../../src/hub/metadata.js'
import { compileHubBindings } from '../../../src/codegen/hub-binders.js'
import { readHubSources } from '../../../src/codegen/read-hub-sources.js'

const PREFIX = { pathPrefix: '/signalr-hubs' }

/** The message of the IM_HUB_DEFINITION_INVALID error that describeHub throws for `hubClass`. */
function definitionError(hubClass: HubClass): string {
  try {
    describeHub(hubClass, PREFIX)
  } catch (error) {
    expect(error).toBeInstanceOf(ImError)
    expect((error as ImError).code).toBe(ImErrorCode.HubDefinitionInvalid)
    return (error as ImError).message
  }
  throw new Error(`${hubClass.name} was accepted`)
}

/** describeHub with the bindings start-up reads from the class's source (this file). */
function describeFromSource(hubClass: HubClass): ReturnType<typeof describeHub> {
  const [contract] = readHubSources([{ className: hubClass.name, file: hubMetadata.getHubSource(hubClass)! }]).contracts
  expect(contract).toBeDefined()
  return describeHub(hubClass, { ...PREFIX, bindings: compileHubBindings(contract!.definition, contract!.types) })
}

const methodNames = (hubClass: HubClass): string[] => [...describeHub(hubClass, PREFIX).methods.keys()]

describe('defaultHubName', () => {
  it.each([
    ['DefaultHub', 'default'],
    ['ChatRoomHub', 'chat-room'],
    ['Chat', 'chat'],
    ['Hub', 'hub'],
    ['OrdersV2Hub', 'orders-v2'],
    ['HTTPStatusHub', 'http-status'],
  ])('names %s %s', (className, name) => {
    expect(defaultHubName(className)).toBe(name)
  })
})

describe('describeHub', () => {
  it('names a hub after its class and serves it under the path prefix', () => {
    @Hub()
    class DefaultHub extends HubBase {}
    @Hub()
    class ChatRoomHub extends HubBase {}
    expect(describeHub(DefaultHub, PREFIX)).toMatchObject({ className: 'DefaultHub', name: 'default', path: '/signalr-hubs/default' })
    expect(describeHub(ChatRoomHub, { pathPrefix: '/hubs' })).toMatchObject({ name: 'chat-room', path: '/hubs/chat-room' })
  })

  it('uses a custom name in the default path, and a custom path as given with one leading slash and none trailing', () => {
    @Hub({ name: 'rooms' })
    class NamedHub extends HubBase {}
    @Hub({ path: 'custom/chat/' })
    class PathHub extends HubBase {}
    expect(describeHub(NamedHub, PREFIX)).toMatchObject({ name: 'rooms', path: '/signalr-hubs/rooms' })
    expect(describeHub(PathHub, PREFIX)).toMatchObject({ name: 'path', path: '/custom/chat' })
  })

  it('refuses a hub name that cannot be a subject token', () => {
    @Hub({ name: 'Chat Room' })
    class BadNameHub extends HubBase {}
    expect(definitionError(BadNameHub)).toBe(`BadNameHub: hub name "Chat Room" must be lower-case letters, digits, '-' or '_'`)
  })

  it('refuses a class without @Hub, naming it', () => {
    class PlainHub extends HubBase {
      @HubMethod()
      ping(): void {}
    }
    expect(isHubClass(PlainHub)).toBe(false)
    expect(definitionError(PlainHub)).toBe('PlainHub: is not decorated with @Hub()')
  })

  it('describes methods by lower-cased name with their arity, forward subject and authorization', () => {
    @Hub()
    class ShopHub extends HubBase {
      @HubMethod()
      addItem(sku: string, count: number = 1): void {
        void [sku, count]
      }

      @Authorize({ roles: ['admin'] })
      @HubMethod({ name: 'Clear' })
      clearAll(): void {}

      @Forward('im.shop.orders')
      order(sku: string): void {
        void sku
      }
    }
    const { methods } = describeFromSource(ShopHub)
    expect([...methods.keys()]).toEqual(['additem', 'clear', 'order'])
    expect(methods.get('additem')).toMatchObject({ name: 'addItem', propertyKey: 'addItem', arity: { min: 1, max: 2 } })
    expect(methods.get('additem')!.forwardSubject).toBeUndefined()
    expect(methods.get('additem')!.authorize).toEqual([])
    expect(methods.get('clear')).toMatchObject({ name: 'Clear', propertyKey: 'clearAll', authorize: [{ roles: ['admin'] }] })
    expect(methods.get('order')).toMatchObject({ forwardSubject: 'im.shop.orders', arity: { min: 1, max: 1 } })
  })

  it('records class-level authorization, subscriptions and client methods', () => {
    @Authorize()
    @Hub()
    class NewsHub extends HubBase {
      @Subscribe('im.news.published', { queue: 'workers' })
      published(): void {}

      @Authorize({ roles: ['editor'] })
      @HubMethod()
      publish(): void {}

      @ClientMethod()
      headline(text: string): void {
        void text
      }
    }
    const descriptor = describeHub(NewsHub, PREFIX)
    expect(isHubClass(NewsHub)).toBe(true)
    expect(descriptor.authorize).toEqual({})
    // Each method carries the hub's rule first, then its own: a call must pass both.
    expect(descriptor.methods.get('publish')!.authorize).toEqual([{}, { roles: ['editor'] }])
    expect(descriptor.subscriptions).toEqual([{ propertyKey: 'published', subject: 'im.news.published', queue: 'workers' }])
    expect(descriptor.clientMethods).toEqual([{ propertyKey: 'headline', name: 'headline' }])
  })

  it('refuses two methods whose names differ only in case, naming class and method', () => {
    @Hub()
    class TwinHub extends HubBase {
      @HubMethod()
      send(): void {}

      @HubMethod({ name: 'SEND' })
      shout(): void {}
    }
    expect(definitionError(TwinHub)).toBe('TwinHub: two hub methods are named "SEND" (names are case-insensitive)')
  })

  it('refuses a @Forward subject that is not a valid topic, naming class and method', () => {
    @Hub()
    class WildForwardHub extends HubBase {
      @Forward('im.chat.>')
      say(): void {}
    }
    expect(definitionError(WildForwardHub)).toBe(
      `WildForwardHub: @Forward on say: subject "im.chat.>" is not valid: topic must not contain the wildcards '*' or '>'`,
    )
  })

  it('refuses a @Subscribe subject that is not valid, naming class and method', () => {
    @Hub()
    class EmptyTokenHub extends HubBase {
      @Subscribe('im..orders')
      handle(): void {}
    }
    @Hub()
    class PartialWildcardHub extends HubBase {
      @Subscribe('im.orders*')
      handle(): void {}
    }
    expect(definitionError(EmptyTokenHub)).toBe(
      'EmptyTokenHub: @Subscribe on handle: subject "im..orders" is not valid: topic must not contain empty tokens (token 2 is empty)',
    )
    expect(definitionError(PartialWildcardHub)).toBe(
      `PartialWildcardHub: @Subscribe on handle: subject "im.orders*" is not valid: topic must not contain the wildcards '*' or '>'`,
    )
  })

  it('allows whole-token wildcards in @Subscribe', () => {
    @Hub()
    class WildcardHub extends HubBase {
      @Subscribe('im.orders.*.created')
      created(): void {}

      @Subscribe('im.audit.>')
      audit(): void {}

      @Subscribe('*.x')
      first(): void {}
    }
    expect(describeHub(WildcardHub, PREFIX).subscriptions.map((s) => s.subject)).toEqual(['im.orders.*.created', 'im.audit.>', '*.x'])
  })

  it("refuses a @Subscribe subject that overlaps the hub's own subjects, naming the one it takes", () => {
    @Hub({ name: 'chat' })
    class DeliverHub extends HubBase {
      @Subscribe('im.chat.deliver')
      deliver(): void {}
    }
    @Hub({ name: 'chat' })
    class WideHub extends HubBase {
      @Subscribe('im.chat.*')
      any(): void {}
    }
    @Hub({ name: 'chat' })
    class FineHub extends HubBase {
      @Subscribe('im.chat.send.room')
      room(): void {}

      @Subscribe('im.other.deliver')
      other(): void {}
    }
    expect(definitionError(DeliverHub)).toBe(
      'DeliverHub: @Subscribe on deliver: subject "im.chat.deliver" overlaps "im.chat.deliver", which IMService uses itself; subscribe under im.chat.send.* or a subject outside im.chat',
    )
    expect(definitionError(WideHub)).toBe(
      'WideHub: @Subscribe on any: subject "im.chat.*" overlaps "im.chat.deliver", which IMService uses itself; subscribe under im.chat.send.* or a subject outside im.chat',
    )
    expect(describeHub(FineHub, PREFIX).subscriptions.map((s) => s.subject)).toEqual(['im.chat.send.room', 'im.other.deliver'])
  })

  it('refuses a subject subscribed twice', () => {
    @Hub()
    class TwiceHub extends HubBase {
      @Subscribe('im.orders.created')
      one(): void {}

      @Subscribe('im.orders.created')
      two(): void {}
    }
    expect(definitionError(TwiceHub)).toBe('TwiceHub: subject "im.orders.created" is subscribed twice')
  })
})

describe('describeHub with inheritance', () => {
  abstract class SharedMethods extends HubBase {
    @HubMethod()
    ping(): string {
      return 'pong'
    }

    @Subscribe('im.shared.tick')
    tick(): void {}
  }

  @Hub()
  class BaseHub extends SharedMethods {
    @HubMethod()
    base(): void {}
  }

  @Hub()
  class DerivedHub extends BaseHub {
    @HubMethod()
    derived(a: string): void {
      void a
    }

    @Subscribe('im.derived.tick')
    derivedTick(): void {}
  }

  it('includes the methods and subscriptions of base classes, base first', () => {
    const descriptor = describeFromSource(DerivedHub)
    expect([...descriptor.methods.keys()]).toEqual(['ping', 'base', 'derived'])
    expect(descriptor.methods.get('derived')!.arity).toEqual({ min: 1, max: 1 })
    expect(descriptor.subscriptions.map((s) => s.subject)).toEqual(['im.shared.tick', 'im.derived.tick'])
  })

  it('without its source knows only the required parameters, from fn.length', () => {
    expect(describeHub(DerivedHub, PREFIX).methods.get('derived')!.arity).toEqual({ min: 1, max: Infinity })
  })

  it('does not let a subclass add to its base class', () => {
    expect(methodNames(BaseHub)).toEqual(['ping', 'base'])
    expect(describeHub(BaseHub, PREFIX).subscriptions.map((s) => s.subject)).toEqual(['im.shared.tick'])
  })

  it('names each class after itself', () => {
    expect(describeHub(BaseHub, PREFIX).name).toBe('base')
    expect(describeHub(DerivedHub, PREFIX).name).toBe('derived')
  })

  it('requires a subclass to carry its own @Hub', () => {
    class UndecoratedHub extends BaseHub {}
    expect(isHubClass(UndecoratedHub)).toBe(false)
    expect(definitionError(UndecoratedHub)).toBe('UndecoratedHub: is not decorated with @Hub()')
  })
})

describe('describeHub transports', () => {
  it('serves every transport unless the hub or the hubs.transports setting names fewer', () => {
    @Hub()
    class PlainHub extends HubBase {}
    @Hub({ transports: ['LongPolling', 'WebSockets'] })
    class PickyHub extends HubBase {}
    expect(describeHub(PlainHub, PREFIX).transports).toEqual(['WebSockets', 'ServerSentEvents', 'LongPolling'])
    expect(describeHub(PlainHub, { ...PREFIX, transports: ['ServerSentEvents'] }).transports).toEqual(['ServerSentEvents'])
    // A hub's own list wins over the setting; negotiate's order, whatever order the hub wrote.
    expect(describeHub(PickyHub, { ...PREFIX, transports: ['ServerSentEvents'] }).transports).toEqual(['WebSockets', 'LongPolling'])
  })

  it('keeps the opening request unless the hub says httpContext: false', () => {
    @Hub()
    class ReadingHub extends HubBase {}
    @Hub({ httpContext: false })
    class NotReadingHub extends HubBase {}
    expect(describeHub(ReadingHub, PREFIX).keepsRequest).toBe(true)
    expect(describeHub(NotReadingHub, PREFIX).keepsRequest).toBe(false)
  })

  it.each([
    [[], '[]'],
    [['Websockets'], '"Websockets"'],
    [['WebSockets', 4], '4'],
    ['LongPolling', '"LongPolling"'],
  ])('refuses transports %j', (transports, shown) => {
    @Hub({ transports: transports as unknown as ['WebSockets'] })
    class BadTransportsHub extends HubBase {}
    expect(definitionError(BadTransportsHub)).toBe(`BadTransportsHub: @Hub transports must name one or more of WebSockets, ServerSentEvents, LongPolling, got ${shown}`)
  })
})
