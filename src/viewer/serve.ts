/**
 * Serves the viewer page on 127.0.0.1 only, until asked to stop: by `close()` or by
 * the page's "Stop server" button (POST to a path with a per-server random token, which
 * another site cannot send: a custom header needs a CORS preflight this server refuses).
 * Requests for another Host than the server's own address are refused (DNS rebinding), and
 * the page may not be framed by another (X-Frame-Options, CSP frame-ancestors).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ViewerServer {
  /** `http://127.0.0.1:<port>/` */
  url: string;
  port: number;
  /** Resolves once the server has stopped, however it was stopped. */
  closed: Promise<'page' | 'closed'>;
  close(): Promise<void>;
}

export interface ServeOptions {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
}

export const CLOSE_PATH = '/close';
const HOST = '127.0.0.1';

/**
 * Starts the server; `page` renders the HTML (one string, or pieces to send in order)
 * given the path and token that stop it.
 */
export async function serveViewer(
  page: (server: { closePath: string; token: string }) => string | readonly string[],
  options: ServeOptions = {},
): Promise<ViewerServer> {
  const token = randomBytes(16).toString('hex');
  const rendered = page({ closePath: CLOSE_PATH, token });
  const html = Buffer.concat(
    (typeof rendered === 'string' ? [rendered] : rendered).map((p) => Buffer.from(p, 'utf8')),
  );
  let stopBy: ((how: 'page' | 'closed') => void) | undefined;
  const closed = new Promise<'page' | 'closed'>((res) => {
    stopBy = res;
  });
  let port = 0;
  let stopping = false;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const host = req.headers.host ?? '';
    if (host !== `${HOST}:${port}` && host !== `localhost:${port}`) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end('forbidden host\n');
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && (path === '/' || path === '/index.html')) {
      res
        .writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'content-length': html.length,
          'cache-control': 'no-store',
          'x-content-type-options': 'nosniff',
          'referrer-policy': 'no-referrer',
          // No other page may frame this one (and borrow a click on "Stop server").
          'x-frame-options': 'DENY',
          'content-security-policy': "frame-ancestors 'none'",
        })
        .end(html);
    } else if (req.method === 'POST' && path === CLOSE_PATH) {
      if (req.headers['x-heapscope-token'] !== token) {
        res.writeHead(403, { 'content-type': 'text/plain' }).end('bad token\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' }).end('stopping\n');
      res.on('finish', () => void stop('page'));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });

  const stop = async (how: 'page' | 'closed') => {
    if (stopping) return closed.then(() => undefined);
    stopping = true;
    await new Promise<void>((res) => {
      server.close(() => res());
      server.closeAllConnections();
    });
    stopBy!(how);
  };

  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(options.port ?? 0, HOST, () => {
      server.off('error', rej);
      res();
    });
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://${HOST}:${port}/`,
    port,
    closed,
    close: () => stop('closed'),
  };
}
