import { describe, expect, it } from 'vitest'
import { HubException } from '../../../src/errors.js'
import { ItemStream } from '../../../src/hub/item-stream.js'

async function drain<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = []
  for await (const item of stream) items.push(item)
  return items
}

describe('ItemStream', () => {
  it('yields items pushed before and after the reader starts, then ends', async () => {
    const stream = new ItemStream<number>(10)
    stream.push(1)
    const reading = drain(stream)
    stream.push(2)
    stream.end()
    expect(await reading).toEqual([1, 2])
  })

  it('ends with a HubException carrying the producer error after the items before it', async () => {
    const stream = new ItemStream<string>(10)
    stream.push('a')
    stream.end('Something bad')
    const items: string[] = []
    await expect(
      (async () => {
        for await (const item of stream) items.push(item)
      })(),
    ).rejects.toEqual(new HubException('Something bad'))
    expect(items).toEqual(['a'])
  })

  it('fails instead of growing past its capacity, and ignores items after the end', async () => {
    const stream = new ItemStream<number>(2)
    stream.push(1)
    stream.push(2)
    stream.push(3)
    stream.push(4)
    await expect(drain(stream)).rejects.toThrow('More than 2 items were waiting to be read.')
  })
})
