// One Hocuspocus node (@hocuspocus/server with @hocuspocus/extension-redis): nodes started with
// the same Redis share every document, each kept in memory; a client's token must equal TOKEN.
//
//   node hocuspocus.mjs PORT REDIS_PORT TOKEN [HOST] [PREFIX]     PORT 0 picks a free port
//
// Listens on HOST (127.0.0.1 by default) through its own HTTP server: Hocuspocus 3.4's own
// `Server` ignores its `address` option and listens on every interface. With PREFIX (say
// `/collab`), it takes websockets on that path only, as behind a proxy that routes a path to
// it. GET / answers its version, its documents and their state vectors (client -> clock).
// Prints `READY <port>` on stdout once it listens, its Redis clients ready; stops on
// SIGTERM/SIGINT or when stdin closes. The packages come from this folder's node_modules
// (Hocuspocus 3.x), or from the folder HOCUSPOCUS_MODULES names (`hocuspocus2`: 2.x).
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'

const here = path.dirname(new URL(import.meta.url).pathname)
const modules = path.resolve(here, process.env.HOCUSPOCUS_MODULES ?? '.')
const require = createRequire(pathToFileURL(path.join(modules, 'package.json')))
const { WebSocketServer } = require('ws')
const { Hocuspocus } = require('@hocuspocus/server')
const { Redis } = require('@hocuspocus/extension-redis')
const Y = require('yjs')
const version = JSON.parse(
  fs.readFileSync(path.join(modules, 'node_modules/@hocuspocus/server/package.json'), 'utf8'),
).version

const port = Number.parseInt(process.argv[2] ?? '0', 10)
const redisPort = Number.parseInt(process.argv[3] ?? '6379', 10)
const token = process.argv[4] ?? ''
const host = process.argv[5] || '127.0.0.1'
const prefix = (process.argv[6] ?? '').replace(/\/+$/, '')

const redis = new Redis({ host: '127.0.0.1', port: redisPort, disconnectDelay: 100 })
const hocuspocus = new Hocuspocus({
  quiet: true,
  extensions: [redis],
  async onAuthenticate(data) {
    if (data.token !== token) {
      throw new Error('wrong token')
    }
  },
})

const wss = new WebSocketServer({ noServer: true })
const server = http.createServer((_request, response) => {
  response.writeHead(200, { 'Content-Type': 'application/json' })
  const states = {}
  for (const [name, document] of hocuspocus.documents) {
    states[name] = Object.fromEntries(Y.decodeStateVector(Y.encodeStateVector(document)))
  }
  response.end(JSON.stringify({ version, documents: [...hocuspocus.documents.keys()], states }))
})
server.on('upgrade', (request, socket, head) => {
  const where = new URL(request.url, 'http://localhost').pathname.replace(/\/+$/, '')
  if (prefix && where !== prefix) {
    socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n')
    return
  }
  wss.handleUpgrade(request, socket, head, (ws) => hocuspocus.handleConnection(ws, request))
})

const stop = () => {
  for (const client of wss.clients) client.terminate()
  server.close(() => process.exit(0))
  setTimeout(() => process.exit(0), 1000).unref()
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
process.stdin.on('end', stop)
process.stdin.resume()

// No connection before both Redis clients are ready: a document loaded meanwhile subscribes
// during ioredis's ready check, which then fails ("Connection in subscriber mode") and leaves
// the node deaf to the others for good (seen when a replica reconnected to a node restarting).
await Promise.all(
  [redis.pub, redis.sub].map((client) =>
    client.status === 'ready' ? null : new Promise((resolve) => client.once('ready', resolve)),
  ),
)
server.listen(port, host, () => {
  process.stdout.write(`READY ${server.address().port}\n`)
})
