/**
 * The SQL endpoint's listener (`flowql serve --pg-port`): a TCP server whose connections are PgSessions. It keeps each
 * session's cancel key, so a CancelRequest arriving on a new connection (psql's Ctrl-C, node-postgres'
 * `pg.cancel`, JDBC's `Statement.cancel`) stops the statement of the session it names and nothing else.
 */
import { randomInt } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { PgSession } from './pg-session.ts';
import type { SqlEndpoint } from './sql-endpoint.ts';

/** A listening SQL endpoint. */
export interface RunningPgServer {
  readonly port: number;
  readonly server: Server;
  /** Stops accepting, closes every session. */
  close(): Promise<void>;
}

/** Listens on `host:port` (0 = any free port). */
export async function startPgServer(endpoint: SqlEndpoint, host: string, port: number): Promise<RunningPgServer> {
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
    const session = new PgSession(
      socket,
      endpoint,
      { processId: nextProcessId++, secret: randomInt(2 ** 31 - 1) },
      cancel,
    );
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
