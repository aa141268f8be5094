const { createServer } = require("./server");

function start(port) {
  const server = createServer(
    { port: port, host: "localhost", timeout: 3000 },
    onRequest,
  );
  server.listen();
  return server;
}

function onRequest(request, response) {
  response.end("ok");
}

module.exports = { start };
