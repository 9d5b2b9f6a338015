/**
 * The SQL endpoint's listener (`flowql serve --pg-port`): a TCP server whose connections are PgSessions. It keeps each
 * session's cancel key, so a CancelRequest arriving on a new connection (psql's Ctrl-C, node-postgres'
 * `pg.cancel`, JDBC's `Statement.cancel`) stops the statement of the session it names and nothing else.
 */
import { randomInt } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createSecureContext } from 'node:tls';
import { PgSession } from './pg-session.ts';
import type { SqlEndpoint } from './sql-endpoint.ts';

/** A listening SQL endpoint. */
export interface RunningPgServer {
  readonly port: number;
  readonly server: Server;
  /** Stops accepting, closes every session. */
  close(): Promise<void>;
}

/** PEM certificate (chain) and private key: clients asking for TLS get it. */
export interface PgTls {
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** Listens on `host:port` (0 = any free port); with `tls`, a client's SSLRequest is accepted. */
export async function startPgServer(
  endpoint: SqlEndpoint,
  host: string,
  port: number,
  tls: PgTls | null = null,
): Promise<RunningPgServer> {
  const secureContext = tls ? createSecureContext({ cert: tls.cert, key: tls.key }) : null;
  const sessions = new Map<number, PgSession>();
  const sockets = new Set<Socket>();
  let nextProcessId = 1;
  const cancel = (processId: number, secret: number) => {
    const session = sessions.get(processId);
    // A wrong secret is ignored silently, as PostgreSQL does: the sender learns nothing.
    if (session && session.secret === secret) session.cancel();
  };
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    const ids = { processId: nextProcessId++, secret: randomInt(2 ** 31 - 1) };
    const session = new PgSession(socket, endpoint, ids, cancel, secureContext);
    sessions.set(session.processId, session);
    const forget = () => {
      sockets.delete(socket);
      sessions.delete(session.processId);
      session.cancel();
    };
    socket.on('close', forget);
    socket.on('error', (err) => endpoint.log.warn({ err: err.message }, 'sql connection failed'));
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => ok());
  });
  return {
    port: (server.address() as AddressInfo).port,
    server,
    close: () =>
      new Promise<void>((ok) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => ok());
      }),
  };
}
