import { describe, expect, it } from 'vitest'
import { Hub, HubMethod } from '../../../src/hub/decorators.js'
import { HubBase } from '../../../src/hub/hub.js'
import { arityOf } from '../../../src/hub/parameters.js'

/**
 * Builds a function from exact source text, so the text arityOf reads is the text written here
 * (the test file itself is rewritten by esbuild, which drops trailing commas and comments).
 */
const fromSource = (source: string): Function => new Function(`return (${source})`)() as Function
const methodFromSource = (members: string, name: string): Function =>
  (fromSource(`class { ${members} }`) as { prototype: Record<string, Function> }).prototype[name]!

describe('arityOf', () => {
  it.each([
    ['function () {}', 0, 0],
    ['function (a) {}', 1, 1],
    ['function (a, b, c) {}', 3, 3],
    ['function (a, b,) {}', 2, 2],
    ['function ({ a, b }, [c, d]) {}', 2, 2],
    ['function ({ a, b } = {}, c) {}', 0, 2],
  ])('counts the plain parameters of %s', (source, min, max) => {
    expect(arityOf(fromSource(source))).toEqual({ min, max })
  })

  it.each([
    ['function (a, b = 1) {}', 1, 2],
    ['function (a = 1, b) {}', 0, 2],
    ['function (a, b = f(1, 2), c = 3) {}', 1, 3],
    ['function (a, b = [1, 2], c = { x: 1, y: 2 }) {}', 1, 3],
    ["function (a, b = 'x, y', c = \"p, q\") {}", 1, 3],
    ["function (a, b = 'it\\'s, fine', c) {}", 1, 3],
    ['function (a, b = `x, y`, c) {}', 1, 3],
    ['function (a, b = (x, y) => x + y, c) {}', 1, 3],
    ['function (a, b = Math.max(1, (2)), c) {}', 1, 3],
  ])('counts parameters with default values in %s', (source, min, max) => {
    expect(arityOf(fromSource(source))).toEqual({ min, max })
  })

  it.each([
    ['function (...args) {}', 0],
    ['function (a, ...rest) {}', 1],
    ['function (a, b = 1, ...rest) {}', 1],
    ['function (a, ...[b, c]) {}', 1],
  ])('has no maximum with a rest parameter: %s', (source, min) => {
    expect(arityOf(fromSource(source))).toEqual({ min, max: Infinity })
  })

  it('reads class methods, async methods and async generator methods', () => {
    expect(arityOf(methodFromSource('m(a, b) {}', 'm'))).toEqual({ min: 2, max: 2 })
    expect(arityOf(methodFromSource('async m(a, b = 2) {}', 'm'))).toEqual({ min: 1, max: 2 })
    expect(arityOf(methodFromSource('async *m(a, ...rest) {}', 'm'))).toEqual({ min: 1, max: Infinity })
    expect(arityOf(fromSource('async function (a, b) {}'))).toEqual({ min: 2, max: 2 })
  })

  it('reads the methods esbuild compiles from a decorated hub class', () => {
    @Hub()
    class ArityHub extends HubBase {
      @HubMethod()
      none(): void {}

      @HubMethod()
      async join(room: string, text: string = 'hi, there', ...tags: string[]): Promise<void> {
        void [room, text, tags]
      }

      @HubMethod()
      move(point: { x: number; y: number } = { x: 1, y: 2 }, scale: number = Math.max(1, 2)): void {
        void [point, scale]
      }

      @HubMethod()
      async typed(a: Map<string, number>, b: Array<[number, string]>, c?: string): Promise<number> {
        return a.size + b.length + (c?.length ?? 0)
      }
    }
    const prototype = ArityHub.prototype
    expect(arityOf(prototype.none)).toEqual({ min: 0, max: 0 })
    expect(arityOf(prototype.join)).toEqual({ min: 1, max: Infinity })
    expect(arityOf(prototype.move)).toEqual({ min: 0, max: 2 })
    // An optional `c?: string` is required at run time: only a default value makes it optional.
    expect(arityOf(prototype.typed)).toEqual({ min: 3, max: 3 })
  })
})
