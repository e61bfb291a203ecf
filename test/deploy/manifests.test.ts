/**
 * deploy/: the Kubernetes manifests and the compose cluster, parsed and checked for what a
 * graceful, balanced deployment depends on: probe paths on a port that outlives the drain, a
 * preStop before SIGTERM, a grace period longer than the drain, a disruption budget, a unique node
 * id per pod; three routed NATS servers that every node knows, and a balancer without stickiness
 * that checks readiness.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { ENVIRONMENT_ONLY_SETTINGS, SETTINGS } from '../../src/config/settings.js'
import { execForm, parseDockerfile, stageEnv } from '../support/dockerfile.js'

const ROOT = new URL('../../', import.meta.url)
const read = (path: string): string => readFileSync(new URL(path, ROOT), 'utf8')

type Doc = Record<string, any>

function documents(path: string): Doc[] {
  return parseAllDocuments(read(path)).map((doc) => {
    expect(doc.errors, `${path} parses`).toEqual([])
    return doc.toJS() as Doc
  })
}

const k8s = ['deployment.yaml', 'service.yaml', 'pdb.yaml'].flatMap((file) => documents(`deploy/kubernetes/${file}`))
const byKind = (kind: string): Doc => {
  const found = k8s.filter((d) => d.kind === kind)
  expect(found, `one ${kind}`).toHaveLength(1)
  return found[0]!
}
const deployment = byKind('Deployment')
const pod = deployment.spec.template.spec
const container = pod.containers[0]
const env = (name: string): Doc | undefined => container.env.find((e: Doc) => e.name === name)
const imageEnv = stageEnv(parseDockerfile(read('Dockerfile')).at(-1)!)
/** The port a probe names (by name or number) as a number. */
const portOf = (port: string | number): number => (typeof port === 'number' ? port : container.ports.find((p: Doc) => p.name === port).containerPort)
/** What IMService's NATS drain may take at exit (NatsBus drainTimeoutMs default). */
const NATS_DRAIN_MS = 5000

describe('Kubernetes', () => {
  it('probes liveness on /healthz/live and readiness on /healthz/ready, on the internal port', () => {
    expect(container.livenessProbe.httpGet.path).toBe('/healthz/live')
    expect(container.readinessProbe.httpGet.path).toBe('/healthz/ready')
    const internal = Number(env('IM_INTERNAL_PORT')?.value ?? imageEnv.IM_INTERNAL_PORT)
    for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) expect(portOf(probe.httpGet.port)).toBe(internal)
    // The kubelet probes the pod's address: the internal listener must not be loopback only.
    expect(env('IM_INTERNAL_HOST')?.value ?? imageEnv.IM_INTERNAL_HOST).toBe('0.0.0.0')
  })

  it('lets the balancers drop the pod before SIGTERM: a preStop pause', () => {
    const command: string[] = container.lifecycle.preStop.exec.command
    expect(command[0]).toBe('sleep')
    expect(Number(command[1])).toBeGreaterThanOrEqual(3)
  })

  it('gives the pod longer than preStop, the drain (IM_SHUTDOWN_TIMEOUT_MS) and the NATS drain together', () => {
    const preStopMs = Number(container.lifecycle.preStop.exec.command[1]) * 1000
    const drainMs = Number(env('IM_SHUTDOWN_TIMEOUT_MS')?.value ?? 5000)
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(preStopMs + drainMs + NATS_DRAIN_MS)
  })

  it('takes IM_NODE_ID from the pod name through the downward API', () => {
    expect(env('IM_NODE_ID')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name')
  })

  it('runs as non-root and never replaces a ready pod before its successor is ready', () => {
    expect(pod.securityContext.runAsNonRoot).toBe(true)
    expect(container.securityContext.allowPrivilegeEscalation).toBe(false)
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0)
  })

  it('has a Service on the public port only, without affinity, and a PodDisruptionBudget for the same pods', () => {
    const labels = deployment.spec.template.metadata.labels
    const service = byKind('Service')
    expect(service.spec.selector).toEqual(labels)
    expect(service.spec.sessionAffinity ?? 'None').toBe('None')
    expect(service.spec.ports.map((p: Doc) => portOf(p.targetPort))).toEqual([Number(imageEnv.IM_PORT)])
    const pdb = byKind('PodDisruptionBudget')
    expect(pdb.spec.selector.matchLabels).toEqual(labels)
    expect(pdb.spec.maxUnavailable ?? pdb.spec.minAvailable).toBeDefined()
    expect(pdb.spec.maxUnavailable).toBeLessThan(deployment.spec.replicas)
  })

  it('lists every manifest in the kustomization', () => {
    expect(documents('deploy/kubernetes/kustomization.yaml')[0]!.resources).toEqual(['deployment.yaml', 'service.yaml', 'pdb.yaml'])
  })
})

describe('compose', () => {
  const compose = documents('deploy/compose/compose.yaml')[0]!
  const services: Record<string, Doc> = compose.services
  const nats = Object.keys(services).filter((name) => String(services[name]!.image).startsWith('nats:'))
  const nodes = Object.keys(services).filter((name) => services[name]!.image === 'imservice:local')
  /** `--flag value` of a command list. */
  const flag = (command: string[], name: string): string | undefined => command[command.indexOf(name) + 1]

  it('runs three NATS servers routed into one cluster, with JetStream', () => {
    expect(nats).toHaveLength(3)
    const clusterNames = new Set<string | undefined>()
    for (const name of nats) {
      const command: string[] = services[name]!.command
      expect(command).toContain('--jetstream')
      expect(flag(command, '--cluster')).toMatch(/:6222$/)
      clusterNames.add(flag(command, '--cluster_name'))
      const routes = flag(command, '--routes')!.split(',')
      // Each server routes to the two others (its own entry, if listed, is ignored by nats-server).
      for (const other of nats.filter((n) => n !== name)) expect(routes).toContain(`nats://${other}:6222`)
    }
    expect(clusterNames.size).toBe(1)
  })

  it('runs two IMService nodes with distinct ids that know all three NATS servers and outlast their drain', () => {
    expect(nodes).toHaveLength(2)
    expect(new Set(nodes.map((n) => services[n]!.environment.IM_NODE_ID)).size).toBe(2)
    for (const name of nodes) {
      const environment = services[name]!.environment
      expect(environment.IM_NATS_URL.split(',').sort()).toEqual(nats.map((n) => `nats://${n}:4222`).sort())
      const grace = /^(\d+)s$/.exec(services[name]!.stop_grace_period)![1]!
      expect(Number(grace) * 1000).toBeGreaterThan(Number(environment.IM_SHUTDOWN_TIMEOUT_MS ?? 5000) + NATS_DRAIN_MS)
    }
    expect(services[nodes[0]!]!.build.context).toBe('../..')
  })

  it('puts a balancer in front that checks /healthz/ready, passes WebSockets and holds no sessions', () => {
    const balancer = services.balancer!
    expect(balancer.image).toMatch(/^haproxy:/)
    const config = read('deploy/compose/haproxy.cfg')
    expect(config).toMatch(/^\s*mode http$/m)
    expect(config).toMatch(/^\s*timeout tunnel \S+$/m)
    expect(config).toMatch(/^\s*option httpchk GET \/healthz\/ready$/m)
    expect(config).toMatch(new RegExp(`check port ${imageEnv.IM_INTERNAL_PORT}\\b`))
    for (const node of nodes) expect(config).toMatch(new RegExp(`^\\s*server ${node} ${node}:${imageEnv.IM_PORT}$`, 'm'))
    expect(config).not.toMatch(/^\s*(cookie|stick|balance source|hash-type)\b/m)
    expect(balancer.volumes).toContain('./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro')
  })

  it('runs the image as built from the Dockerfile', () => {
    const cmd = execForm(parseDockerfile(read('Dockerfile')).at(-1)!.instructions.find((i) => i.keyword === 'CMD')!.args)
    expect(cmd).toEqual(['node', 'cli/bin.mjs', 'serve'])
    for (const name of nodes) expect(services[name]!.command).toBeUndefined()
  })
})

describe('the IM_* variables the artefacts set', () => {
  it('are all settings of the node (a typo would stop it at start-up)', () => {
    const settings = new Set([...SETTINGS.map((row) => row.env), ...ENVIRONMENT_ONLY_SETTINGS.map((entry) => entry.env)])
    const files = ['Dockerfile', 'deploy/kubernetes/deployment.yaml', 'deploy/compose/compose.yaml']
    const named = files.flatMap((file) => [...read(file).matchAll(/\bIM_[A-Z0-9_]+/g)].map((m) => `${m[0]} (${file})`))
    expect(named.length).toBeGreaterThan(5)
    expect(named.filter((entry) => !settings.has(entry.split(' ')[0]!))).toEqual([])
  })
})
