// The Yjs side of `benchmarks/sync.py --engine hocuspocus`: N plain Yjs clients
// (@hocuspocus/provider, all in this process) spread over two Hocuspocus nodes that share one
// Redis (the first half on URL_A, the rest on URL_B); client 0 types a token into a shared
// Y.Text, one edit at a time, and the time until the other clients have it is measured as
// benchmarks/yjs_sync.mjs does (the last client, on node B, is the fixed peer).
//
//   node benchmarks/hocuspocus_sync.mjs URL_A URL_B DOCUMENT TOKEN CLIENTS EDITS
//
// Prints one JSON line: {"one": [ms...], "all": [ms...]}. The npm packages come from
// tests/interop (tests/interop/install), loaded as CommonJS so that yjs is one instance.
import { createRequire } from 'node:module'

const require = createRequire(new URL('../tests/interop/package.json', import.meta.url))
const Y = require('yjs')
const { HocuspocusProvider } = require('@hocuspocus/provider')
const WebSocket = require('ws')

const [urlA, urlB, name, token, clientsArg, editsArg] = process.argv.slice(2)
const count = Number.parseInt(clientsArg ?? '8', 10)
const edits = Number.parseInt(editsArg ?? '300', 10)
const now = () => Number(process.hrtime.bigint()) / 1e6

const clients = []
for (let n = 0; n < count; n++) {
  const doc = new Y.Doc()
  const url = n < count / 2 ? urlA : urlB
  const provider = new HocuspocusProvider({ url, name, document: doc, token, WebSocketPolyfill: WebSocket })
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
  new Promise((resolve, reject) => {
    if (provider.isSynced) return resolve()
    const timer = setTimeout(() => reject(new Error('no sync within 15 s')), 15000)
    provider.on('synced', () => {
      clearTimeout(timer)
      resolve()
    })
  })
await Promise.all(clients.map((c) => synced(c.provider)))
await new Promise((resolve) => setTimeout(resolve, 300))

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
