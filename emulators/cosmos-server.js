#!/usr/bin/env node
// The Cosmos DB API server used locally (@vercel/cosmosdb-server), with three gaps closed so that
// code written for real Cosmos DB behaves the same here:
//   1. reading a missing document answers 404 NotFound (the server throws and answers 500);
//   2. a transactional batch takes the partition key from the request header when an operation
//      carries none (the Python SDK sends it once per batch, not per operation);
//   3. connections are kept alive (the server closes every connection, which halves throughput).
// The handlers are patched before the routes module loads, because the routes capture them.
//
// Usage: node emulators/cosmos-server.js [--port 8081] [--host 127.0.0.1]
"use strict";

const { Readable } = require("stream");
const path = require("path");

const lib = path.dirname(require.resolve("@vercel/cosmosdb-server/lib/index.js"));
const readDocument = require(path.join(lib, "handler", "read-document.js"));
const batchDocuments = require(path.join(lib, "handler", "batch-documents.js"));
const readJson = require(path.join(lib, "json.js")).default;

const NOT_FOUND = {
  code: "NotFound",
  message: "Entity with the specified id does not exist in the system.",
};

const originalRead = readDocument.default;
readDocument.default = (account, req, res, params) => {
  try {
    return originalRead(account, req, res, params);
  } catch (err) {
    // The server dereferences the missing document's data; that TypeError means "not found".
    if (err instanceof TypeError) {
      res.statusCode = 404;
      return { ...NOT_FOUND };
    }
    throw err;
  }
};

const originalBatch = batchDocuments.default;
batchDocuments.default = async (account, req, res, params) => {
  const operations = await readJson(req);
  const headerKey = req.headers["x-ms-documentdb-partitionkey"];
  if (Array.isArray(operations) && headerKey) {
    for (const op of operations) {
      if (op && op.partitionKey === undefined) op.partitionKey = headerKey;
    }
  }
  const replay = Readable.from([Buffer.from(JSON.stringify(operations))]);
  replay.headers = req.headers;
  replay.method = req.method;
  replay.url = req.url;
  return originalBatch(account, replay, res, params);
};

const { createHttpsServer } = require(path.join(lib, "index.js"));

function parseArgs(argv) {
  const args = { port: 8081, host: "127.0.0.1" };
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === "--port" || argv[i] === "-p") args.port = parseInt(argv[++i], 10);
    else if (argv[i] === "--host") args.host = argv[++i];
  }
  return args;
}

const { port, host } = parseArgs(process.argv.slice(2));
const server = createHttpsServer({ keepAlive: true });
server.keepAliveTimeout = 65_000;
server.listen(port, host, () => {
  console.log(`Cosmos DB API server ready at https://${host}:${port}`);
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
