import { describe, expect, it } from 'vitest'
import { PublishCoalescer } from '../../../src/bus/publish-coalescer.js'

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('PublishCoalescer', () => {
  it('hands over the publishes of a turn together, in order, at the end of the turn', async () => {
    const handed: number[] = []
    const coalescer = new PublishCoalescer(() => {})
    for (let i = 0; i < 3; i++) coalescer.push(() => handed.push(i))
    expect(handed).toEqual([])
    await turn()
    expect(handed).toEqual([0, 1, 2])
    coalescer.push(() => handed.push(3))
    await turn()
    expect(handed).toEqual([0, 1, 2, 3])
  })

  it('hands over at once when drained (before a flush), and not twice', async () => {
    const handed: string[] = []
    const coalescer = new PublishCoalescer(() => {})
    coalescer.push(() => handed.push('a'))
    coalescer.drain()
    expect(handed).toEqual(['a'])
    await turn()
    expect(handed).toEqual(['a'])
  })

  it('lets a publish nobody waits on wait up to its window, unless an urgent one takes it along in order', async () => {
    const handed: string[] = []
    const coalescer = new PublishCoalescer(() => {}, 30)
    coalescer.push(() => handed.push('event'), false)
    await turn()
    expect(handed).toEqual([])
    await new Promise((resolve) => setTimeout(resolve, 40))
    expect(handed).toEqual(['event'])
    coalescer.push(() => handed.push('event 2'), false)
    coalescer.push(() => handed.push('urgent'))
    await turn()
    expect(handed).toEqual(['event', 'event 2', 'urgent'])
  })

  it('reports a publish that throws and goes on with the next', async () => {
    const errors: unknown[] = []
    const handed: string[] = []
    const coalescer = new PublishCoalescer((error) => errors.push(error))
    coalescer.push(() => {
      throw new Error('closed')
    })
    coalescer.push(() => handed.push('next'))
    await turn()
    expect(handed).toEqual(['next'])
    expect((errors[0] as Error).message).toBe('closed')
  })
})
