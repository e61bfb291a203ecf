import { describe, expect, it, vi } from 'vitest'
import { InvocationQueue } from '../../../src/hub/invocation-queue.js'

const WAIT = { timeout: 1000, interval: 1 } as const

/** A task whose start is recorded and whose end the test decides. */
function controlledTasks() {
  const started: string[] = []
  const finish = new Map<string, { resolve: () => void; reject: (error: Error) => void }>()
  const task = (name: string) => (): Promise<void> => {
    started.push(name)
    return new Promise<void>((resolve, reject) => finish.set(name, { resolve, reject }))
  }
  const end = (name: string): void => finish.get(name)!.resolve()
  const fail = (name: string): void => finish.get(name)!.reject(new Error(`${name} failed`))
  return { started, task, end, fail }
}

describe('InvocationQueue', () => {
  it('runs one task at a time in arrival order with a limit of 1', async () => {
    const { started, task, end } = controlledTasks()
    const queue = new InvocationQueue(1)
    queue.push(task('a'))
    queue.push(task('b'))
    queue.push(task('c'))
    expect(started).toEqual(['a'])
    expect(queue.pending).toBe(2)
    end('a')
    await vi.waitFor(() => expect(started).toEqual(['a', 'b']), WAIT)
    expect(queue.pending).toBe(1)
    end('b')
    await vi.waitFor(() => expect(started).toEqual(['a', 'b', 'c']), WAIT)
    expect(queue.pending).toBe(0)
  })

  it('runs up to the limit at once and starts the next as soon as any one ends', async () => {
    const { started, task, end } = controlledTasks()
    const queue = new InvocationQueue(2)
    for (const name of ['a', 'b', 'c', 'd']) queue.push(task(name))
    expect(started).toEqual(['a', 'b'])
    expect(queue.pending).toBe(2)
    end('b')
    await vi.waitFor(() => expect(started).toEqual(['a', 'b', 'c']), WAIT)
    end('a')
    await vi.waitFor(() => expect(started).toEqual(['a', 'b', 'c', 'd']), WAIT)
  })

  it('starts a task at once while below the limit', () => {
    const { started, task } = controlledTasks()
    const queue = new InvocationQueue(3)
    queue.push(task('a'))
    expect(started).toEqual(['a'])
    expect(queue.pending).toBe(0)
  })

  it('goes on with the next task after one rejects', async () => {
    const { started, task, fail, end } = controlledTasks()
    const queue = new InvocationQueue(1)
    queue.push(task('a'))
    queue.push(task('b'))
    queue.push(task('c'))
    fail('a')
    await vi.waitFor(() => expect(started).toEqual(['a', 'b']), WAIT)
    end('b')
    await vi.waitFor(() => expect(started).toEqual(['a', 'b', 'c']), WAIT)
  })

  it('keeps its full parallelism after rejections', async () => {
    const { started, task, fail } = controlledTasks()
    const queue = new InvocationQueue(2)
    for (const name of ['a', 'b', 'c', 'd', 'e']) queue.push(task(name))
    fail('a')
    fail('b')
    await vi.waitFor(() => expect(started).toEqual(['a', 'b', 'c', 'd']), WAIT)
    expect(queue.pending).toBe(1)
  })
})
