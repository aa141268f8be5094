// One plain Yjs client (yjs + y-websocket's WebsocketProvider) in a process of its own, for
// `benchmarks/sync.py --compare --processes` (the same line protocol as
// `benchmarks/sync_replica.py`):
//
//   node benchmarks/yjs_client.mjs URL ROOM
//
// Prints `READY` once synced. Then `edit I` on stdin inserts the token `<I>` at the end of the
// shared Y.Text and prints `start I T`, T the time just before the edit; and whenever the next
// token `<I>` (0, 1, ...) appears in the text, it prints `got I T`, T when its observer saw it.
// Times are `process.hrtime` in seconds (CLOCK_MONOTONIC, as Python's time.perf_counter on
// Linux). It leaves at the end of its input. Packages from tests/interop (CommonJS, so that yjs
// is one instance for y-websocket and this script).
import { createRequire } from 'node:module'
import readline from 'node:readline'

const require = createRequire(new URL('../tests/interop/package.json', import.meta.url))
const Y = require('yjs')
const { WebsocketProvider } = require('y-websocket')
const WebSocket = require('ws')

const [url, room] = process.argv.slice(2)
const now = () => Number(process.hrtime.bigint()) / 1e9
const doc = new Y.Doc()
const provider = new WebsocketProvider(url, room, doc, {
  WebSocketPolyfill: WebSocket,
  disableBc: true,
})
const text = doc.getText('notes')
let expected = 0
text.observe(() => {
  const at = now()
  const current = text.toString()
  while (current.includes(`<${expected}>`)) {
    process.stdout.write(`got ${expected} ${at}\n`)
    expected += 1
  }
})
await new Promise((resolve) => {
  if (provider.synced) resolve()
  else provider.once('sync', (isSynced) => isSynced && resolve())
})
process.stdout.write('READY\n')
const lines = readline.createInterface({ input: process.stdin })
lines.on('line', (line) => {
  const [command, number] = line.split(' ')
  if (command === 'edit') {
    expected = Number(number) + 1 // (its own: not reported)
    const start = now()
    text.insert(text.length, `<${number}>`)
    process.stdout.write(`start ${number} ${start}\n`)
  }
})
lines.on('close', () => {
  provider.destroy()
  setTimeout(() => process.exit(0), 100).unref()
})
