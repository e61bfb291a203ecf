/**
 * Node tags: six base64url characters that start every connection id and token a node issues.
 * The tag tells every node which node to ask about a token (`im.<hub>.node.<tag>`), so it is also
 * a subject token and must never carry '.', '*', '>' or spaces. It is not a secret and grants
 * nothing: the random part of a key is what must match.
 */
import { createHash, randomBytes } from 'node:crypto'

const TAG = /^[A-Za-z0-9_-]{6}$/
const TAG_LENGTH = 6

/** True for what a node could use as its tag (and so as a subject token). */
export function isNodeTag(value: string): boolean {
  return TAG.test(value)
}

/** The tag of the node that issued `token`; undefined for a token no node could have issued. */
export function tagOf(token: string): string | undefined {
  const tag = token.slice(0, TAG_LENGTH)
  return isNodeTag(tag) ? tag : undefined
}

/**
 * Six base64url characters derived from the node id and this process's `incarnation`. A node
 * that restarts under the same id (a StatefulSet pod) gets a new tag: tokens its previous life
 * issued, whose connections moved to other nodes when it drained, must not look like its own,
 * or it would answer for them that they do not exist. The length and alphabet stay what every
 * node reads a tag as, so nodes of an older version still route these tokens.
 */
export function nodeTag(nodeId: string, incarnation = ''): string {
  return createHash('sha256').update(incarnation === '' ? nodeId : `${nodeId}\0${incarnation}`).digest('base64url').slice(0, TAG_LENGTH)
}

/** A value no other life of this process shares, for nodeTag. */
export function newIncarnation(): string {
  return randomBytes(12).toString('base64url')
}

/**
 * A connection id or token: the node's tag, then 16 crypto-random bytes in base64url (what
 * ASP.NET Core uses), so that a request for the connection (a client result, a poll that reached
 * another node) can go to the node that issued it.
 */
export function newConnectionKey(tag: string): string {
  return tag + randomSlice().toString('base64url')
}

/**
 * 16 fresh random bytes, cut from a pool filled 256 keys at a time: one call into the system's
 * random source costs as much as the bytes of many keys (Node pools randomUUID the same way).
 */
let pool = Buffer.alloc(0)
let offset = 0
function randomSlice(): Buffer {
  if (offset + 16 > pool.length) {
    pool = randomBytes(16 * 256)
    offset = 0
  }
  return pool.subarray(offset, (offset += 16))
}
