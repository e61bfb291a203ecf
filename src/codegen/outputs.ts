/**
 * HubModel -> every output file, as a map from path (relative to the output folder) to text.
 * Pure: the same model gives byte-identical files, in a stable order.
 */
import { asyncApiFileName, emitAsyncApi } from './emit-asyncapi.js'
import { csharpFileName, emitCsharp } from './emit-csharp.js'
import { clientFileName, emitTsClient } from './emit-ts-client.js'
import { emitTsPublishers, publishersFileName } from './emit-ts-publishers.js'
import type { CasingOptions } from './envelope-casing.js'
import { headerNote } from './header.js'
import type { HubModel } from './model.js'
import { compare } from './type-table.js'

export const MODEL_FILE = 'hub-model.json'

/** `envelopeCasing`: how the publishers, C# records and AsyncAPI schemas name IMService's envelopes (`hubs.envelopeCasing`). */
export function renderOutputs(model: HubModel, options: CasingOptions = {}): Map<string, string> {
  const files: [string, string][] = []
  for (const hub of model.hubs) {
    files.push([clientFileName(hub), emitTsClient(hub, model)])
    files.push([publishersFileName(hub), emitTsPublishers(hub, model, options)])
    files.push([csharpFileName(hub), emitCsharp(hub, model, options)])
  }
  files.push([asyncApiFileName, emitAsyncApi(model, options)])
  files.push([MODEL_FILE, renderModel(model)])
  return new Map(files.sort(([a], [b]) => compare(a, b)))
}

export function renderModel(model: HubModel): string {
  return JSON.stringify({ 'x-generated': headerNote(`${model.hubsDir}/`), ...model }, null, 2) + '\n'
}

/** Reads a committed hub-model.json back (the note field is dropped). */
export function parseModel(text: string): HubModel {
  const { 'x-generated': _note, ...model } = JSON.parse(text) as HubModel & { 'x-generated'?: string }
  return model
}
