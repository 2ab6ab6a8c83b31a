/**
 * The loopback ceiling: a bare node:http server that does the least an object server can do. PUT
 * reads and drops the body and answers 200; GET `/<bucket>/<size>/<anything>` answers a fixed
 * body of that size (pattern seed 1, cached). Driven by the same client as Strata, it measures
 * what one Node event loop and the loopback interface can carry on this machine.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import { reportToParent, serveUntilStopped } from '../lib/child-server.ts';
import { patternBuffer } from '../lib/pattern.ts';

const bodies = new Map<number, Buffer>();

function bodyOf(sizeBytes: number): Buffer {
  let b = bodies.get(sizeBytes);
  if (!b) {
    b = patternBuffer(sizeBytes, 1);
    bodies.set(sizeBytes, b);
  }
  return b;
}

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  if (req.method === 'PUT') {
    req.on('data', () => undefined);
    req.once('end', () => {
      res.writeHead(200, { 'content-length': '0' });
      res.end();
    });
    return;
  }
  const size = Number(/^\/[^/]+\/(\d+)\//.exec(req.url ?? '')?.[1] ?? NaN);
  if (req.method !== 'GET' || !Number.isSafeInteger(size) || size > 64 * 1024 * 1024) {
    res.writeHead(400, { 'content-length': '0' });
    res.end();
    return;
  }
  const body = bodyOf(size);
  res.writeHead(200, { 'content-length': String(body.length), 'content-type': 'application/octet-stream' });
  res.end(body);
});

server.listen(0, '127.0.0.1');
await once(server, 'listening');
const addr = server.address();
const port = typeof addr === 'object' && addr ? addr.port : 0;
serveUntilStopped(
  () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
);
reportToParent({ type: 'ready', endpoint: `http://127.0.0.1:${port}` });
