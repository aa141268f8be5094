// The standard Yjs websocket server (@y/websocket-server, the server half of y-websocket) as a
// relay: every path is a room, every room one Y.Doc kept in memory; no auth, no crdtspace code.
//
//   node relay.mjs [PORT] [HOST]     PORT 0 (the default) picks a free port
//
// Prints `READY <port>` on stdout once it listens; stops on SIGTERM/SIGINT or when stdin closes.
import http from 'node:http'
import { WebSocketServer } from 'ws'
import { setupWSConnection, docs } from '@y/websocket-server/utils'

const port = Number.parseInt(process.argv[2] ?? '0', 10)
const host = process.argv[3] ?? '127.0.0.1'

const wss = new WebSocketServer({ noServer: true })
wss.on('connection', setupWSConnection)

const server = http.createServer((_request, response) => {
  response.writeHead(200, { 'Content-Type': 'application/json' })
  response.end(JSON.stringify({ rooms: [...docs.keys()] }))
})
server.on('upgrade', (request, socket, head) => {
  wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request))
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
