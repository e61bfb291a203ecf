// Connects to a running IMService with the official SignalR client and prints what arrives.
//   node docs/examples/listen.mjs [hub URL] [method]
// then, in another terminal:
//   npx im publish im.default.send '{"method":"hello","args":["world"]}'
import * as signalR from '@microsoft/signalr'

const url = process.argv[2] ?? 'http://127.0.0.1:5000/signalr-hubs/default'
const method = process.argv[3] ?? 'hello'

const connection = new signalR.HubConnectionBuilder()
  .withUrl(url)
  .withAutomaticReconnect()
  .configureLogging(signalR.LogLevel.Warning)
  .build()

connection.on(method, (...args) => console.log(`${method}:`, ...args))
await connection.start()
console.log(`connected to ${url} as ${connection.connectionId}; waiting for '${method}' (Ctrl+C to stop)`)

// Clients reach the services with publish(topic, ...args): it lands on im.default.receive.<topic>.
await connection.invoke('publish', 'example.joined', { at: new Date().toISOString() })
