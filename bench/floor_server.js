// The floor of bench/invoke_overhead.py: answers `{}` to any request, no Lambda work at all.
// usage: node floor_server.js [port]   (0 or none: a free port; prints "listening on http://127.0.0.1:PORT")
"use strict";
const http = require("node:http");

const BODY = Buffer.from("{}");
const server = http.createServer({ noDelay: true, keepAlive: true }, (req, res) => {
  req.resume(); // drain the body
  req.on("end", () => {
    res.writeHead(200, { "Content-Type": "application/json", "Content-Length": BODY.length });
    res.end(BODY);
  });
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;
server.listen(Number(process.argv[2] || 0), "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => server.close(() => process.exit(0)) && setTimeout(() => process.exit(0), 500).unref());
