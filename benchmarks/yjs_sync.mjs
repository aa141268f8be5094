// The Yjs side of `benchmarks/sync.py --compare`: N plain Yjs clients (yjs + y-websocket's
// WebsocketProvider, all in this process) on a Yjs websocket server; client 0 types a token
// into a shared Y.Text, one edit at a time, and the time until the other clients have it is
// measured the way sync.py measures crdtspace's networked replicas.
//
//   node benchmarks/yjs_sync.mjs URL ROOM CLIENTS EDITS
//
// Prints one JSON line: {"one": [ms...], "all": [ms...]}: per edit, the time until the last
// client has it ("one", a fixed peer) and until every client has it ("all").
// The npm packages come from tests/interop (installed by tests/interop/install); they are loaded
// as CommonJS so that yjs is one instance for y-websocket and this script.
import { createRequire } from 'node:module'

const require = createRequire(new URL('../tests/interop/package.json', import.meta.url))
const Y = require('yjs')
const { WebsocketProvider } = require('y-websocket')
const WebSocket = require('ws')

const [url, room, clientsArg, editsArg] = process.argv.slice(2)
const count = Number.parseInt(clientsArg ?? '8', 10)
const edits = Number.parseInt(editsArg ?? '300', 10)
const now = () => Number(process.hrtime.bigint()) / 1e6

const clients = []
for (let n = 0; n < count; n++) {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(url, room, doc, {
    WebSocketPolyfill: WebSocket,
    disableBc: true
  })
  const text = doc.getText('notes')
  const client = { doc, provider, text, arrived: new Map(), waiting: null }
  text.observe((event) => {
    const at = now()
    for (const change of event.changes.delta) {
      if (typeof change.insert !== 'string') continue
      for (const match of change.insert.matchAll(/<(\d+)>/g)) {
        if (!client.arrived.has(match[1])) client.arrived.set(match[1], at)
      }
    }
    if (client.waiting) client.waiting()
  })
  clients.push(client)
}

const synced = (provider) =>
  new Promise((resolve) => {
    if (provider.synced) resolve()
    else provider.once('sync', (isSynced) => isSynced && resolve())
  })
await Promise.all(clients.map((c) => synced(c.provider)))
await new Promise((resolve) => setTimeout(resolve, 200))

const until = (client, key) =>
  new Promise((resolve, reject) => {
    if (client.arrived.has(key)) return resolve()
    const timer = setTimeout(() => reject(new Error(`edit ${key} never arrived`)), 10000)
    client.waiting = () => {
      if (client.arrived.has(key)) {
        clearTimeout(timer)
        client.waiting = null
        resolve()
      }
    }
  })

const [writer, ...peers] = clients
const one = []
const all = []
for (let i = 0; i < edits; i++) {
  const key = String(i)
  const start = now()
  writer.text.insert(writer.text.length, `<${key}>`)
  for (const peer of peers) await until(peer, key)
  for (const peer of peers) one.push(peer.arrived.get(key) - start) // (every peer's arrival)
  all.push(Math.max(...peers.map((p) => p.arrived.get(key))) - start)
}
process.stdout.write(JSON.stringify({ one, all }) + '\n')
for (const client of clients) client.provider.destroy()
setTimeout(() => process.exit(0), 100).unref()
