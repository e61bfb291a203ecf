/**
 * HubDefinition -> `generated/dotnet/<Hub>.cs`, for .NET services on NATS.Net: records for the
 * payloads the hub takes and the events IMService publishes, the subjects as constants, and an
 * extension method per @Subscribe subject over `INatsConnection.PublishAsync`. The payload is
 * serialized here with System.Text.Json, so the records' attributes decide the JSON. The
 * records of what IMService publishes (InvocationEnvelope, LifecycleEvent) name the properties
 * as `hubs.envelopeCasing` makes them travel, so they bind under any JsonSerializerOptions.
 */
import { csIdentifier, csString, CsharpTypes, summary } from './csharp-types.js'
import { CASED_TYPES, PASCAL_NOTE } from './envelope-casing.js'
import type { CasingOptions } from './envelope-casing.js'
import { headerLines } from './header.js'
import { ENVELOPE_TYPE, eventType, LIFECYCLE_TYPE } from './model.js'
import type { HubDefinition, HubModel, OperationModel, PublicationModel } from './model.js'
import { pascalCase } from './names.js'
import { describeEvent, describeOperation, operationTypes } from './own-subjects.js'

export function csharpFileName(hub: HubDefinition): string {
  return `dotnet/${hub.className}.cs`
}

/** How IMService writes its envelopes and lifecycle events (`hubs.envelopeCasing`). */
export type CsharpOptions = CasingOptions

export function emitCsharp(hub: HubDefinition, model: HubModel, options: CsharpOptions = {}): string {
  const c = hub.className
  const pascal = options.envelopeCasing === 'pascal'
  const types = new CsharpTypes(model.types, new Set(pascal ? CASED_TYPES : []))
  types.map({ kind: 'ref', name: ENVELOPE_TYPE }, ENVELOPE_TYPE)
  types.map({ kind: 'ref', name: LIFECYCLE_TYPE }, LIFECYCLE_TYPE)
  for (const p of hub.publications) if (p.kind !== 'invocation') types.map({ kind: 'ref', name: eventType(p.kind) }, eventType(p.kind))
  const operations = hub.operations ?? []
  for (const type of operationTypes(operations)) if (type.kind === 'ref') types.map(type, type.name)
  const payloads = hub.subscriptions.map((s) => types.map(s.payload, `${pascalCase(s.handler)}Payload`))
  types.flush()

  const lines = [
    ...headerLines(hub.file),
    ...(pascal ? [`// ${PASCAL_NOTE}`] : []),
    '#nullable enable',
    'using System;',
    'using System.Collections.Generic;',
    'using System.Text.Json;',
    'using System.Text.Json.Serialization;',
    'using System.Threading;',
    'using System.Threading.Tasks;',
    'using NATS.Client.Core;',
    '',
    `namespace ImService.Hubs.${pascalCase(hub.name)};`,
  ]
  for (const declaration of types.declarations.values()) lines.push('', ...declaration)

  lines.push('', `/// <summary>The NATS subjects of ${c}; <c>*</c> and <c>&gt;</c> are wildcards.</summary>`, `public static class ${c}Subjects`, '{')
  const constants = new Set<string>()
  const constant = (key: string): string => {
    let name = csIdentifier(pascalCase(key))
    while (constants.has(name)) name += '_'
    constants.add(name)
    return name
  }
  const subscriptionConstants = hub.subscriptions.map((s) => {
    const name = constant(s.handler)
    lines.push(`    /// <summary>Services publish; IMService runs ${c}.${s.handler}.</summary>`, `    public const string ${name} = ${csString(s.subject)};`)
    return name
  })
  for (const p of hub.publications) {
    lines.push(`    /// <summary>IMService publishes: ${describe(p, c)}.</summary>`, `    public const string ${constant(p.name)} = ${csString(p.subject)};`)
  }
  const operationConstants = operations.map((o) => {
    const name = constant(o.name)
    const who = o.kind === 'request' ? 'Services ask (NATS request), IMService answers' : 'Services publish, IMService acts'
    lines.push(`    /// <summary>${who}: ${escapeXml(describeOperation(o))}.</summary>`, `    public const string ${name} = ${csString(o.subject)};`)
    return name
  })
  lines.push('}')

  lines.push(
    '',
    `/// <summary>Publishes to the subjects ${c} subscribes to, the way IMService expects the payloads.</summary>`,
    `public static class ${c}Publishers`,
    '{',
    '    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.General);',
  )
  hub.subscriptions.forEach((s, i) => {
    const tokens = s.parameters.map((p) => `string ${csIdentifier(p.name)}, `).join('')
    const subject = s.parameters.length === 0
      ? `${c}Subjects.${subscriptionConstants[i]}`
      : `FillSubject(${c}Subjects.${subscriptionConstants[i]}, ${s.parameters.map((p) => csIdentifier(p.name)).join(', ')})`
    const payload = payloads[i]!
    lines.push(
      '',
      ...summary(`Publishes to ${s.subject}: IMService runs ${c}.${s.handler} with the payload.`, '    '),
      `    public static ValueTask Publish${pascalCase(s.handler)}Async(this INatsConnection nats, ${tokens}${payload.text}${payload.nullable ? '?' : ''} payload, NatsHeaders? headers = null, CancellationToken cancellationToken = default) =>`,
      `        nats.PublishAsync(${subject}, JsonSerializer.SerializeToUtf8Bytes(payload, JsonOptions), headers: headers, cancellationToken: cancellationToken);`,
    )
  })
  operations.forEach((o, i) => lines.push('', ...operationMethod(o, `${c}Subjects.${operationConstants[i]}`)))
  if (operations.some((o) => o.kind === 'request')) lines.push('', ...READ_ANSWER)
  if (hub.subscriptions.some((s) => s.parameters.length > 0)) {
    lines.push(
      '',
      '    private static string FillSubject(string pattern, params string[] values)',
      '    {',
      "        var tokens = pattern.Split('.');",
      '        var next = 0;',
      '        for (var i = 0; i < tokens.Length; i++)',
      '        {',
      '            if (tokens[i] == "*" || tokens[i] == ">") tokens[i] = values[next++];',
      '        }',
      '        return string.Join(".", tokens);',
      '    }',
    )
  }
  lines.push('}')
  return lines.join('\n') + '\n'
}

function describe(p: PublicationModel, hubClass: string): string {
  if (p.kind !== 'invocation') return `${escapeXml(describeEvent(p.kind, hubClass))} (${eventType(p.kind)})`
  return `each invocation of ${p.invocations.map((i) => `${hubClass}.${i.method}`).join(', ')} (${ENVELOPE_TYPE})`
}

/** An extension method over NATS.Net for a presence request or command. */
function operationMethod(o: OperationModel, subject: string): string[] {
  const pascal = pascalCase(o.name)
  if (o.kind === 'command') {
    const payload = o.payload.kind === 'ref' ? o.payload.name : 'object'
    return [
      ...summary(`Publishes to ${o.subject}: ${describeOperation(o)}.`, '    '),
      `    public static ValueTask Publish${pascal}Async(this INatsConnection nats, ${payload} payload, NatsHeaders? headers = null, CancellationToken cancellationToken = default) =>`,
      `        nats.PublishAsync(${subject}, JsonSerializer.SerializeToUtf8Bytes(payload, JsonOptions), headers: headers, cancellationToken: cancellationToken);`,
    ]
  }
  const request = o.request.kind === 'ref' ? o.request.name : 'object'
  const answer = o.answer.kind === 'ref' ? o.answer.name : 'JsonElement'
  return [
    ...summary(`Asks ${o.subject}: ${describeOperation(o)}. Throws InvalidOperationException with IMService's text when it refuses the request as malformed.`, '    '),
    `    public static async ValueTask<${answer}> Request${pascal}Async(this INatsConnection nats, ${request} request, CancellationToken cancellationToken = default)`,
    '    {',
    `        var reply = await nats.RequestAsync<byte[], byte[]>(${subject}, JsonSerializer.SerializeToUtf8Bytes(request, JsonOptions), cancellationToken: cancellationToken);`,
    `        return ReadAnswer<${answer}>(reply.Data);`,
    '    }',
  ]
}

const READ_ANSWER = [
  '    private static T ReadAnswer<T>(byte[]? data)',
  '    {',
  '        if (data is null || data.Length == 0) throw new InvalidOperationException("IMService sent an empty answer.");',
  '        using (var document = JsonDocument.Parse(data))',
  '        {',
  '            var root = document.RootElement;',
  '            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out var error)) throw new InvalidOperationException(error.GetString());',
  '        }',
  '        return JsonSerializer.Deserialize<T>(data, JsonOptions) ?? throw new InvalidOperationException("IMService sent an empty answer.");',
  '    }',
]

function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')
}
