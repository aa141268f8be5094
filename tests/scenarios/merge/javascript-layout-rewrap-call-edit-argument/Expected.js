const { createServer } = require("./server");

function start(port) {
  const server = createServer({ port: port, host: "0.0.0.0", timeout: 3000 }, onRequest);
  server.listen();
  return server;
}

function onRequest(request, response) {
  response.end("ok");
}

module.exports = { start };
