/** Fakes for the lifetime tests: a hub protocol that counts what it serializes, and connections. */
import type { DeliverableConnection } from '../../../src/lifetime/lifetime-manager.js'
import type { HubProtocol } from '../../../src/protocol/hub-protocol.js'
import { TransferFormat } from '../../../src/protocol/messages.js'
import type { HubMessage } from '../../../src/protocol/messages.js'

export interface CountingProtocol extends HubProtocol {
  /** Every message passed to writeMessage, in order. */
  readonly written: HubMessage[]
}

/** Text frames are `<name>:<json>`; binary frames are a fresh Uint8Array per call. */
export function countingProtocol(name = 'json', transferFormat: TransferFormat = TransferFormat.Text): CountingProtocol {
  const written: HubMessage[] = []
  return {
    name,
    version: 1,
    transferFormat,
    written,
    parseMessages: () => ({ messages: [] }),
    writeMessage(message) {
      written.push(message)
      const text = `${name}:${JSON.stringify(message)}`
      return transferFormat === TransferFormat.Binary ? new TextEncoder().encode(text) : text
    },
  }
}

export class FakeConnection implements DeliverableConnection {
  /** What the client would read: text frames as text, binary frames as bytes. */
  readonly frames: Array<string | Uint8Array> = []
  /** The frame objects as handed over, to check that a broadcast shares one. */
  readonly rawFrames: Array<string | Uint8Array> = []

  constructor(
    readonly connectionId: string,
    readonly userId: string | undefined,
    readonly protocol: HubProtocol,
  ) {}

  sendFrame(frame: string | Uint8Array): void {
    this.rawFrames.push(frame)
    const text = this.protocol.transferFormat === TransferFormat.Text && typeof frame !== 'string'
    this.frames.push(text ? new TextDecoder().decode(frame) : frame)
  }
}
