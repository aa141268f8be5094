// A plain Yjs client (yjs + y-websocket's WebsocketProvider, no crdtspace code) driven by JSON.
//
//   node client.mjs URL ROOM [TOKEN]
//
// Connects a Y.Doc to URL/ROOM (the token, if any, goes in the `?token=` query parameter), waits
// for the first sync, prints {"event": "synced", "client": <client id>}, then reads one JSON
// command per line on stdin and prints one JSON line per command on stdout ({"ok": true, ...}
// or {"ok": false, "error": "..."}). It exits when stdin closes (after its updates are sent).
// An argument `--commands JSON` (an array) runs those commands instead of reading stdin.
// With `--hocuspocus` it is a Hocuspocus client instead (@hocuspocus/provider): ROOM is the
// document's name and the token goes in its auth message.
// Refused (the connection closed twice before a sync) or no sync within 15 s: one line
// {"event": "error", "error": "...", "received": {files, nodes}} and exit 3.
//
// The commands read and edit crdtspace's document schema (crdtspace/document.py):
//   files : Map  path -> Array[node id]
//   nodes : Map  node id -> Map {kind, name, parent, text: Y.Text (a leaf) |
//                                head: Y.Text, body: Y.Array[node id], tail: Y.Text, log: Y.Array}
//
//   {"op": "files"}                                  the paths
//   {"op": "get", "path": ["nodes", ID, "kind"]}     any value under the root maps, as JSON
//   {"op": "render", "path": P}                      a file's text: head + children + tail
//   {"op": "outline", "path": P}                     [{id, kind, name, depth}] in file order
//   {"op": "find", "path": P, "name": N}             the first node named N: {id, kind, part, text}
//   {"op": "read", "id": ID, "part": "text"}         one Y.Text of a node
//   {"op": "insert", "id": ID, "part": "text", "index": I, "text": S}
//   {"op": "delete", "id": ID, "part": "text", "index": I, "length": L}
//   {"op": "wait", "path": P, "contains": S, "timeout": MS}   until the file contains S
//   {"op": "add-file", "path": P, "text": S}         a new file: one leaf node (kind "text")
//   {"op": "connection"}                             {connected, closes} of the websocket
//   {"op": "flush"}                                  until every update is on the wire
//   {"op": "presence", "state": {...}}               this client's awareness state; crdtspace
//        reads {agent, state, claims: [{node, path, until}]} (`until`: seconds since the epoch);
//        "state": true in it is replaced by the doc's state vector (hex), kept current
//   {"op": "peers", "agent": A, "claims": N, "timeout": MS}   the other clients' awareness
//        states [{client, state}], waiting (with `agent`) until agent A shows N claims or more
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import { HocuspocusProvider } from '@hocuspocus/provider'
import WebSocket from 'ws'
import readline from 'node:readline'

const args = process.argv.slice(2)
let commands = null
const at = args.indexOf('--commands')
if (at >= 0) {
  commands = JSON.parse(args[at + 1])
  args.splice(at, 2)
}
const hocuspocus = args.indexOf('--hocuspocus')
if (hocuspocus >= 0) args.splice(hocuspocus, 1)
const [url, room, token] = args
if (!url || !room) {
  process.stderr.write('usage: node client.mjs URL ROOM [TOKEN] [--commands JSON]\n')
  process.exit(2)
}

const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

const doc = new Y.Doc()
const files = doc.getMap('files')
const nodes = doc.getMap('nodes')
const provider =
  hocuspocus >= 0
    ? new HocuspocusProvider({ url, name: room, document: doc, token: token ?? '', WebSocketPolyfill: WebSocket })
    : new WebsocketProvider(url, room, doc, {
        WebSocketPolyfill: WebSocket,
        params: token ? { token } : {},
        disableBc: true,
        resyncInterval: -1,
      })

const node = (id) => {
  const n = nodes.get(id)
  if (!(n instanceof Y.Map)) throw new Error(`no node ${JSON.stringify(id)}`)
  return n
}
const roots = (path) => {
  const ids = files.get(path)
  if (!(ids instanceof Y.Array)) throw new Error(`no file ${JSON.stringify(path)}`)
  return [...new Set(ids.toArray())].filter((id) => nodes.has(id))
}
// A container renders each child once, where the child's `parent` says (as crdtspace does).
const children = (id) =>
  [...new Set(node(id).get('body').toArray())].filter(
    (c) => nodes.has(c) && (node(c).get('parent') ?? '') === id,
  )
const render = (id) => {
  const n = node(id)
  if (n.has('text')) return n.get('text').toString()
  return n.get('head').toString() + children(id).map(render).join('') + n.get('tail').toString()
}
const renderFile = (path) => roots(path).map(render).join('')
const walk = (id, depth, acc) => {
  const n = node(id)
  acc.push({ id, kind: n.get('kind'), name: n.get('name'), depth })
  if (!n.has('text')) for (const c of children(id)) walk(c, depth + 1, acc)
  return acc
}
const outline = (path) => roots(path).flatMap((r) => walk(r, 0, []))
const text = (id, part = 'text') => {
  const t = node(id).get(part)
  if (!(t instanceof Y.Text)) throw new Error(`node ${id} has no text part ${part}`)
  return t
}
const toJSON = (v) => (v !== null && typeof v === 'object' && 'toJSON' in v ? v.toJSON() : v)

const run = async (cmd) => {
  switch (cmd.op) {
    case 'files':
      return { files: [...files.keys()].sort() }
    case 'get': {
      let value = doc.getMap(cmd.path[0])
      for (const key of cmd.path.slice(1)) {
        value = value instanceof Y.Array ? value.get(key) : value?.get(key)
      }
      return { value: toJSON(value) ?? null }
    }
    case 'render':
      return { text: renderFile(cmd.path) }
    case 'outline':
      return { nodes: outline(cmd.path) }
    case 'find': {
      const hit = outline(cmd.path).find((e) => e.name === cmd.name)
      if (!hit) throw new Error(`no node named ${JSON.stringify(cmd.name)} in ${cmd.path}`)
      const part = node(hit.id).has('text') ? 'text' : 'head'
      return { id: hit.id, kind: hit.kind, part, text: text(hit.id, part).toString() }
    }
    case 'read':
      return { text: text(cmd.id, cmd.part).toString() }
    case 'insert': {
      const t = text(cmd.id, cmd.part)
      doc.transact(() => t.insert(cmd.index, cmd.text), 'yjs-client')
      return { text: t.toString() }
    }
    case 'delete': {
      const t = text(cmd.id, cmd.part)
      doc.transact(() => t.delete(cmd.index, cmd.length), 'yjs-client')
      return { text: t.toString() }
    }
    case 'wait': {
      const deadline = Date.now() + (cmd.timeout ?? 10000)
      for (;;) {
        let current = ''
        try {
          current = renderFile(cmd.path)
        } catch {}
        if (current.includes(cmd.contains)) return { text: current }
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${JSON.stringify(cmd.contains)}`)
        await sleep(20)
      }
    }
    case 'add-file': {
      const id = `yjs-${doc.clientID.toString(16)}-${files.size}-${Date.now()}`
      doc.transact(() => {
        const leaf = new Y.Map()
        leaf.set('kind', 'text')
        leaf.set('name', '')
        leaf.set('parent', '')
        leaf.set('path', cmd.path)
        leaf.set('text', new Y.Text(cmd.text))
        leaf.set('log', new Y.Array())
        nodes.set(id, leaf)
        files.set(cmd.path, Y.Array.from([id]))
      }, 'yjs-client')
      return { id }
    }
    case 'connection':
      return { connected: provider.wsconnected, closes }
    case 'presence': {
      presence = cmd.state
      publish()
      return { client: doc.clientID }
    }
    case 'peers': {
      const deadline = Date.now() + (cmd.timeout ?? 10000)
      for (;;) {
        const peers = [...provider.awareness.getStates()]
          .filter(([client, state]) => client !== doc.clientID && state)
          .map(([client, state]) => ({ client, state }))
        const found = peers.some(
          (p) => p.state.agent === cmd.agent && (p.state.claims ?? []).length >= (cmd.claims ?? 0),
        )
        if (cmd.agent === undefined || found) return { peers }
        if (Date.now() > deadline) {
          throw new Error(`timed out waiting for ${cmd.agent}: ${JSON.stringify(peers)}`)
        }
        await sleep(20)
      }
    }
    case 'flush':
      await flush()
      return {}
    default:
      throw new Error(`unknown op ${JSON.stringify(cmd.op)}`)
  }
}

let presence = null
const hex = (bytes) => Buffer.from(bytes).toString('hex')
const publish = () => {
  if (presence === null) return
  const state = presence.state === true ? { ...presence, state: hex(Y.encodeStateVector(doc)) } : presence
  provider.awareness.setLocalState(state)
}
doc.on('update', () => {
  if (presence?.state === true) publish()
})

const flush = async () => {
  for (let i = 0; i < 500; i++) {
    if (hocuspocus >= 0) {
      if (provider.unsyncedChanges === 0) break // (every update acknowledged by the server)
      await sleep(10)
      continue
    }
    const ws = provider.ws
    if (ws && ws.readyState === WebSocket.OPEN && ws.bufferedAmount === 0) break
    await sleep(10)
  }
  await sleep(50)
}

const synced = new Promise((resolve, reject) => {
  if (hocuspocus >= 0) provider.on('synced', () => resolve())
  else provider.once('sync', (isSynced) => isSynced && resolve())
  setTimeout(() => reject(new Error('no sync within 15 s (refused, or no server?)')), 15000).unref()
})
// A server that refuses the connection (a wrong token) closes it before the first sync; the
// provider would retry forever, so a second close before any sync ends the client (exit 3).
let closes = 0
let refused = null
const refusal = new Promise((resolve) => {
  refused = resolve
})
if (hocuspocus >= 0) provider.on('authenticationFailed', () => refused('permission-denied'))
provider.on(hocuspocus >= 0 ? 'close' : 'connection-close', (event) => {
  closes += 1
  if (provider.synced) return
  process.stderr.write(`connection closed before sync: ${event?.code ?? ''} ${event?.reason ?? ''}\n`)
  if (closes >= 2) refused(event?.code ?? null)
})

const main = async () => {
  try {
    await Promise.race([
      synced,
      refusal.then((code) => {
        throw new Error(`the server closed the connection before any sync (code ${code})`)
      }),
    ])
  } catch (err) {
    out({ event: 'error', error: err.message, received: { files: files.size, nodes: nodes.size } })
    provider.destroy()
    process.exit(3)
  }
  out({ event: 'synced', client: doc.clientID })
  const step = async (cmd) => {
    try {
      out({ ok: true, op: cmd.op, ...(await run(cmd)) })
    } catch (err) {
      out({ ok: false, op: cmd.op, error: err.message })
    }
  }
  if (commands) {
    for (const cmd of commands) await step(cmd)
  } else {
    const lines = readline.createInterface({ input: process.stdin })
    for await (const line of lines) if (line.trim()) await step(JSON.parse(line))
  }
  await flush()
  provider.destroy()
  process.exit(0)
}
main()
