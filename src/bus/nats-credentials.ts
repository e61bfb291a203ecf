/**
 * The files that authenticate this node to NATS (an nkey seed or a `.creds` file) and secure the
 * link (CA, client certificate and key). They are read once, at start-up, so a missing or
 * unreadable file stops the node with the setting's name instead of failing every connection
 * attempt later. Their contents are handed to nats.js and never logged.
 */
import { readFileSync } from 'node:fs'
import { credsAuthenticator, nkeyAuthenticator } from '@nats-io/transport-node'
import type { Authenticator } from '@nats-io/transport-node'
import { ImError, ImErrorCode } from '../errors.js'

export interface NatsCredentialFiles {
  readonly nkeySeedFile?: string
  readonly credsFile?: string
  readonly tls?: { readonly caFile?: string; readonly certFile?: string; readonly keyFile?: string }
}

/** PEM contents for nats.js; any field set means TLS is required. */
export interface NatsTlsMaterial {
  readonly ca?: string
  readonly cert?: string
  readonly key?: string
}

export interface NatsCredentials {
  readonly authenticator?: Authenticator
  readonly tls?: NatsTlsMaterial
}

const SEED = /^S[A-Z2-7]{57}$/

/** Throws ImError(ConfigInvalid) naming the setting whose file is missing, unreadable or malformed. */
export function readNatsCredentials(files: NatsCredentialFiles): NatsCredentials {
  let authenticator: Authenticator | undefined
  if (files.nkeySeedFile !== undefined) {
    const seed = readSetting(files.nkeySeedFile, 'IM_NATS_NKEY_SEED_FILE (nats.nkeySeedFile)').trim()
    if (!SEED.test(seed)) {
      throw new ImError(ImErrorCode.ConfigInvalid, `IM_NATS_NKEY_SEED_FILE (nats.nkeySeedFile): ${files.nkeySeedFile} does not hold an nkey seed (one line starting with "S", 58 characters)`)
    }
    authenticator = nkeyAuthenticator(new TextEncoder().encode(seed))
  }
  if (files.credsFile !== undefined) {
    const creds = readSetting(files.credsFile, 'IM_NATS_CREDS_FILE (nats.credsFile)')
    if (!/-----BEGIN NATS USER JWT-----/.test(creds) || !/-----BEGIN USER NKEY SEED-----/.test(creds)) {
      throw new ImError(ImErrorCode.ConfigInvalid, `IM_NATS_CREDS_FILE (nats.credsFile): ${files.credsFile} is not a NATS .creds file (it needs a "BEGIN NATS USER JWT" and a "BEGIN USER NKEY SEED" block)`)
    }
    authenticator = credsAuthenticator(new TextEncoder().encode(creds))
  }
  const tlsFiles = files.tls ?? {}
  const ca = tlsFiles.caFile !== undefined ? readPem(tlsFiles.caFile, 'IM_NATS_TLS_CA (nats.tls.caFile)') : undefined
  const cert = tlsFiles.certFile !== undefined ? readPem(tlsFiles.certFile, 'IM_NATS_TLS_CERT (nats.tls.certFile)') : undefined
  const key = tlsFiles.keyFile !== undefined ? readPem(tlsFiles.keyFile, 'IM_NATS_TLS_KEY (nats.tls.keyFile)') : undefined
  const tls = ca !== undefined || cert !== undefined || key !== undefined ? { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) } : undefined
  return { ...(authenticator ? { authenticator } : {}), ...(tls ? { tls } : {}) }
}

function readSetting(path: string, setting: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable by this process' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code ?? String(cause)})`
    throw new ImError(ImErrorCode.ConfigInvalid, `${setting}: ${path} ${why}`, { cause })
  }
}

function readPem(path: string, setting: string): string {
  const text = readSetting(path, setting)
  if (!text.includes('-----BEGIN ')) throw new ImError(ImErrorCode.ConfigInvalid, `${setting}: ${path} is not a PEM file (no "-----BEGIN" line)`)
  return text
}
