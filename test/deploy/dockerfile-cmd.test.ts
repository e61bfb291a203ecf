/**
 * Runs the image's CMD as the Dockerfile writes it, from the repository root (the image's WORKDIR
 * holds the same files) with the environment the image sets, and probes it as Docker and the
 * kubelet would. Only the ports and bind addresses differ: free loopback ones, since a test
 * machine is shared. The HEALTHCHECK command runs as written too.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import * as signalR from '@microsoft/signalr'
import { expect, it } from 'vitest'
import { withTimeout } from '../support/clients.js'
import { execForm, parseDockerfile, stageEnv } from '../support/dockerfile.js'
import { freePort, startNatsServer } from '../support/nats-server.js'
import { probe, probeUntil } from '../support/probes.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const runtime = parseDockerfile(readFileSync(`${ROOT}/Dockerfile`, 'utf8')).at(-1)!
const instruction = (keyword: string): string => runtime.instructions.find((i) => i.keyword === keyword)!.args
const CMD = execForm(instruction('CMD'))!
const HEALTHCHECK = execForm(instruction('HEALTHCHECK').replace(/^(--\S+\s+)*CMD\s+/, ''))!

/** Runs a command of the image; resolves with its exit code (bounded). */
function run(command: readonly string[], env: NodeJS.ProcessEnv): Promise<number | null> {
  const child = spawn(command[0]!, command.slice(1), { cwd: ROOT, env, stdio: 'ignore' })
  return withTimeout(new Promise((resolve) => child.once('exit', resolve)), 10_000, `${command.join(' ')} to exit`)
}

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once('exit', resolve))
}

it('the image CMD serves /healthz/live and /healthz/ready, and drains on SIGTERM with ready at 503', async () => {
  const natsPort = await freePort()
  const [port, internalPort] = [await freePort(), await freePort()]
  const env: NodeJS.ProcessEnv = {
    // What a container has: PATH and HOME from the base image, the rest from the Dockerfile.
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...stageEnv(runtime),
    IM_HOST: '127.0.0.1',
    IM_PORT: String(port),
    IM_INTERNAL_HOST: '127.0.0.1',
    IM_INTERNAL_PORT: String(internalPort),
    IM_NATS_URL: `nats://127.0.0.1:${natsPort}`,
    IM_NODE_ID: 'imservice-7c9d5b8f4-x2x7k',
    IM_LOG_LEVEL: 'warn',
  }
  expect(env.NODE_ENV).toBe('production')
  // Started and stopped before the node exists: the node first meets a NATS that does not answer,
  // and restart() brings it back on the same port.
  const nats = await startNatsServer({ port: natsPort })
  await nats.kill()
  const node = spawn(CMD[0]!, CMD.slice(1), { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  node.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  node.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  try {
    const publicUrl = `http://127.0.0.1:${port}`
    const internalUrl = `http://127.0.0.1:${internalPort}`
    await probeUntil(publicUrl, '/healthz/live', (a) => a.status === 200, 30_000).catch((error: Error) => {
      throw new Error(`${error.message}\n--- node output ---\n${output}`)
    })
    for (const base of [publicUrl, internalUrl]) {
      expect(await probe(base, '/healthz/live')).toEqual({ status: 200, body: { status: 'live', node: env.IM_NODE_ID } })
      expect(await probe(base, '/healthz/ready')).toMatchObject({ status: 503, body: { reasons: [`bus connecting to ${env.IM_NATS_URL}`] } })
    }
    // Docker's HEALTHCHECK says healthy: the process serves, whatever NATS does.
    expect(await run(HEALTHCHECK, env)).toBe(0)

    await nats.restart()
    for (const base of [publicUrl, internalUrl]) {
      expect(await probeUntil(base, '/healthz/ready', (a) => a.status === 200, 15_000)).toMatchObject({ status: 200, body: { status: 'ready' } })
    }

    // A stateful-reconnect client keeps the drain going: it waits for the client to move.
    const client = new signalR.HubConnectionBuilder()
      .withUrl(`${publicUrl}/signalr-hubs/default`, { transport: signalR.HttpTransportType.WebSockets })
      .withStatefulReconnect()
      .configureLogging(signalR.LogLevel.None)
      .build()
    await client.start()
    node.kill('SIGTERM')
    const draining = await probeUntil(internalUrl, '/healthz/ready', (a) => a.status === 503, 5000)
    expect(draining.body).toMatchObject({ status: 'not ready', reasons: ['draining'] })
    expect(node.exitCode).toBeNull()
    expect(await probe(internalUrl, '/healthz/live')).toMatchObject({ status: 200 })

    expect(await withTimeout(exited(node), 15_000, 'the node to exit after its drain')).toBe(0)
    expect(await run(HEALTHCHECK, env)).toBe(1)
    await client.stop()
  } finally {
    if (node.exitCode === null) node.kill('SIGKILL')
    await nats.stop()
  }
}, 60_000)
