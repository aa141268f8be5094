// One Hocuspocus node (@hocuspocus/server with @hocuspocus/extension-redis): nodes started with
// the same Redis share every document, each kept in memory; a client's token must equal TOKEN.
//
//   node hocuspocus.mjs PORT REDIS_PORT TOKEN [HOST]     PORT 0 picks a free port
//
// Listens on HOST (127.0.0.1 by default) through its own HTTP server: Hocuspocus 3.4's own
// `Server` ignores its `address` option and listens on every interface. Prints `READY <port>`
// on stdout once it listens; stops on SIGTERM/SIGINT or when stdin closes.
import http from 'node:http'
import { WebSocketServer } from 'ws'
import { Hocuspocus } from '@hocuspocus/server'
import { Redis } from '@hocuspocus/extension-redis'

const port = Number.parseInt(process.argv[2] ?? '0', 10)
const redisPort = Number.parseInt(process.argv[3] ?? '6379', 10)
const token = process.argv[4] ?? ''
const host = process.argv[5] ?? '127.0.0.1'

const hocuspocus = new Hocuspocus({
  quiet: true,
  extensions: [new Redis({ host: '127.0.0.1', port: redisPort, disconnectDelay: 100 })],
  async onAuthenticate(data) {
    if (data.token !== token) {
      throw new Error('wrong token')
    }
  },
})

const wss = new WebSocketServer({ noServer: true })
const server = http.createServer((_request, response) => {
  response.writeHead(200, { 'Content-Type': 'application/json' })
  response.end(JSON.stringify({ documents: [...hocuspocus.documents.keys()] }))
})
server.on('upgrade', (request, socket, head) => {
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

server.listen(port, host, () => {
  process.stdout.write(`READY ${server.address().port}\n`)
})
