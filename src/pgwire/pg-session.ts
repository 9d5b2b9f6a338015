/**
 * One client connection of the SQL endpoint: the startup handshake (cleartext password = API key), then the simple
 * and extended query protocols with named statements and portals. Messages are handled strictly in order, so a
 * client may pipeline any number of Parse/Bind/Execute before its Sync; after an error the extended protocol skips
 * to the next Sync, as PostgreSQL does. Replies are buffered and written at Sync, Flush and the end of a simple query.
 */
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import { authenticateRequest } from '../auth/authenticate-request.ts';
import type { Tenant } from '../domain/api-keys.ts';
import { SERVER_VERSION } from '../store/sql-catalog.ts';
import { announcedOid, binaryParameter, binaryValue, pgTypeOid, pgTypeSize, textValue } from './pg-types.ts';
import { sessionCommandTag } from './session-commands.ts';
import { errorFields } from './sql-errors.ts';
import type { SqlEndpoint, StatementRun } from './sql-endpoint.ts';
import {
  backend,
  BodyReader,
  MessageReader,
  ProtocolError,
  type FieldDescription,
  type FrontendMessage,
} from './wire-codec.ts';

interface PreparedStatement {
  readonly text: string;
  readonly parameterOids: readonly number[];
}

interface Portal {
  readonly statement: PreparedStatement;
  readonly params: readonly (string | null)[];
  readonly resultFormats: readonly number[];
  answer: StatementRun | null;
  sent: number;
}

/** One connection's state machine; `onClose` lets the server forget it (cancel keys). */
export class PgSession {
  readonly processId: number;
  readonly secret: number;
  private readonly reader = new MessageReader();
  private started = false;
  private tenant: Tenant | null = null;
  private user = '';
  private out: Buffer[] = [];
  private queue: Promise<void> = Promise.resolve();
  private skipToSync = false;
  private readonly statements = new Map<string, PreparedStatement>();
  private readonly portals = new Map<string, Portal>();
  private running: AbortController | null = null;
  private cancelled = false;

  constructor(
    private socket: Socket,
    private readonly endpoint: SqlEndpoint,
    ids: { processId: number; secret: number },
    private readonly onCancelRequest: (processId: number, secret: number) => void,
    /** The endpoint's certificate and key; null = TLS is declined. */
    private readonly tls: SecureContext | null = null,
  ) {
    this.processId = ids.processId;
    this.secret = ids.secret;
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
  }

  /** A CancelRequest named this session: stop the statement it runs now, if any. */
  cancel(): void {
    if (!this.running) return;
    this.cancelled = true;
    this.running.abort();
  }

  private receive(chunk: Buffer): void {
    this.reader.push(chunk);
    try {
      if (!this.started) {
        const first = this.reader.nextFirst();
        if (!first) return;
        this.queue = this.queue.then(() => this.first(first));
      }
      for (let m = this.reader.next(); m; m = this.reader.next()) {
        const message = m;
        this.queue = this.queue.then(() => this.handle(message));
      }
    } catch (err) {
      this.fatal('08P01', (err as Error).message);
    }
    this.queue = this.queue.catch((err: unknown) => this.fatal('XX000', (err as Error).message));
  }

  private fatal(code: string, message: string): void {
    if (this.socket.destroyed) return;
    this.socket.end(Buffer.concat([...this.out, backend.errorResponse({ severity: 'FATAL', code, message })]));
    this.out = [];
  }

  private send(frame: Buffer): void {
    this.out.push(frame);
    if (this.out.length > 256) this.flush();
  }

  private flush(): void {
    if (this.out.length === 0 || this.socket.destroyed) return;
    this.socket.write(Buffer.concat(this.out));
    this.out = [];
  }

  private async first(first: ReturnType<MessageReader['nextFirst']> & object): Promise<void> {
    if (first.kind === 'ssl' && this.tls) {
      // The client sends nothing more until it has read 'S': the rest of the connection runs inside TLS.
      const plain = this.socket;
      plain.removeAllListeners('data');
      plain.write('S');
      const secure = new TLSSocket(plain, { isServer: true, secureContext: this.tls });
      secure.on('data', (chunk: Buffer) => this.receive(chunk));
      secure.on('error', (err) => {
        this.endpoint.log.warn({ err: err.message }, 'sql TLS connection failed');
        plain.destroy();
      });
      this.socket = secure;
      return;
    }
    if (first.kind === 'ssl' || first.kind === 'gssenc') {
      // No TLS configured (--pg-tls-cert/--pg-tls-key) and no GSSAPI: the client goes on in plain text or gives up.
      this.socket.write('N');
      return;
    }
    if (first.kind === 'cancel') {
      this.onCancelRequest(first.processId, first.secret);
      this.socket.end();
      return;
    }
    if (first.kind === 'unsupported') {
      this.fatal('08P01', `unsupported protocol version ${first.version}: flowql speaks protocol 3.0`);
      return;
    }
    this.started = true;
    this.user = first.params.user ?? '';
    if (this.endpoint.apiKeys) this.send(backend.authenticationCleartextPassword());
    else this.authenticated(this.authenticate(null));
    this.flush();
    // Messages that arrived with the startup packet.
    for (let m = this.reader.next(); m; m = this.reader.next()) await this.handle(m);
  }

  private authenticate(password: string | null) {
    return authenticateRequest(
      (name) => (name === 'authorization' && password ? `Bearer ${password}` : null),
      this.endpoint.apiKeys,
      'datasets',
    );
  }

  private authenticated(result: ReturnType<PgSession['authenticate']>): void {
    if (!result.ok) {
      this.fatal('28P01', `${result.message} (send an API key as the password; the user name may be anything)`);
      return;
    }
    this.tenant = result.tenant;
    this.send(backend.authenticationOk());
    const status: [string, string][] = [
      ['server_version', SERVER_VERSION],
      ['server_encoding', 'UTF8'],
      ['client_encoding', 'UTF8'],
      ['DateStyle', 'ISO, MDY'],
      ['IntervalStyle', 'postgres'],
      ['TimeZone', 'UTC'],
      ['integer_datetimes', 'on'],
      ['standard_conforming_strings', 'on'],
      ['is_superuser', 'off'],
      ['session_authorization', this.user],
      ['application_name', 'flowql'],
    ];
    for (const [name, value] of status) this.send(backend.parameterStatus(name, value));
    this.send(backend.backendKeyData(this.processId, this.secret));
    this.send(backend.readyForQuery());
    this.endpoint.log.info({ tenant: result.tenant.name, user: this.user }, 'sql session started');
  }

  private async handle(message: FrontendMessage): Promise<void> {
    if (this.socket.destroyed) return;
    if (!this.tenant) {
      if (message.type !== 'p') return this.fatal('08P01', 'expected a password message');
      this.authenticated(this.authenticate(new BodyReader(message.body).cstring()));
      return this.flush();
    }
    if (this.skipToSync && message.type !== 'S') return;
    const body = new BodyReader(message.body);
    try {
      switch (message.type) {
        case 'Q':
          return await this.simpleQuery(body.cstring());
        case 'P':
          return this.parse(body);
        case 'B':
          return this.bind(body);
        case 'D':
          return await this.describe(body.byte(), body.cstring());
        case 'E':
          return await this.execute(body.cstring(), body.int32());
        case 'C': {
          const kind = body.byte();
          const name = body.cstring();
          (kind === 'S' ? this.statements : this.portals).delete(name);
          return this.send(backend.closeComplete());
        }
        case 'S':
          this.skipToSync = false;
          this.portals.delete('');
          this.send(backend.readyForQuery());
          return this.flush();
        case 'H':
          return this.flush();
        case 'X':
          this.socket.end();
          return;
        default:
          throw new ProtocolError(`unsupported message type ${JSON.stringify(message.type)}`);
      }
    } catch (err) {
      this.send(backend.errorResponse(errorFields(err, this.cancelled)));
      this.cancelled = false;
      if (message.type === 'Q') {
        this.send(backend.readyForQuery());
        this.flush();
      } else this.skipToSync = true;
    }
  }

  private async simpleQuery(text: string): Promise<void> {
    if (text.trim() === '' || /^[\s;]*$/.test(text)) this.send(backend.emptyQueryResponse());
    else {
      const tag = sessionCommandTag(text);
      if (tag) this.send(backend.commandComplete(tag));
      else {
        const answer = await this.run(text, []);
        this.send(backend.rowDescription(this.fields(answer, [])));
        this.sendRows(answer, 0, answer.rows.length, []);
        this.send(backend.commandComplete(`SELECT ${answer.rows.length}`));
      }
    }
    this.send(backend.readyForQuery());
    this.flush();
  }

  private parse(body: BodyReader): void {
    const name = body.cstring();
    const text = body.cstring();
    const count = body.int16();
    const parameterOids = Array.from({ length: count }, () => body.int32());
    this.statements.set(name, { text, parameterOids });
    this.send(backend.parseComplete());
  }

  private bind(body: BodyReader): void {
    const portal = body.cstring();
    const name = body.cstring();
    const statement = this.statements.get(name);
    if (!statement) throw new ProtocolError(`prepared statement "${name}" does not exist`);
    const formats = Array.from({ length: body.int16() }, () => body.int16());
    const params = Array.from({ length: body.int16() }, (_, i) => {
      const value = body.bytes();
      const format = formats.length === 1 ? formats[0] : formats[i];
      return value === null
        ? null
        : format === 1
          ? binaryParameter(value, statement.parameterOids[i])
          : value.toString('utf8');
    });
    const resultFormats = Array.from({ length: body.int16() }, () => body.int16());
    this.portals.set(portal, { statement, params, resultFormats, answer: null, sent: 0 });
    this.send(backend.bindComplete());
  }

  private async describe(kind: string, name: string): Promise<void> {
    if (kind === 'S') {
      const statement = this.statements.get(name);
      if (!statement) throw new ProtocolError(`prepared statement "${name}" does not exist`);
      if (sessionCommandTag(statement.text) || statement.text.trim() === '') {
        this.send(backend.parameterDescription(statement.parameterOids));
        return this.send(backend.noData());
      }
      const shape = await this.endpoint.describe(this.tenant!, statement.text, () => this.stopSignal());
      this.send(backend.parameterDescription(shape.parameterTypes.map(pgTypeOid)));
      return this.send(shape.columns.length ? backend.rowDescription(this.fields(shape, [])) : backend.noData());
    }
    const portal = this.portals.get(name);
    if (!portal) throw new ProtocolError(`portal "${name}" does not exist`);
    if (sessionCommandTag(portal.statement.text) || portal.statement.text.trim() === '')
      return this.send(backend.noData());
    portal.answer ??= await this.run(portal.statement.text, portal.params);
    this.send(backend.rowDescription(this.fields(portal.answer, portal.resultFormats)));
  }

  private async execute(name: string, maxRows: number): Promise<void> {
    const portal = this.portals.get(name);
    if (!portal) throw new ProtocolError(`portal "${name}" does not exist`);
    const text = portal.statement.text;
    if (text.trim() === '') return this.send(backend.emptyQueryResponse());
    const tag = sessionCommandTag(text);
    if (tag) return this.send(backend.commandComplete(tag));
    portal.answer ??= await this.run(text, portal.params);
    const total = portal.answer.rows.length;
    const end = maxRows > 0 ? Math.min(total, portal.sent + maxRows) : total;
    this.sendRows(portal.answer, portal.sent, end, portal.resultFormats);
    portal.sent = end;
    this.send(end < total ? backend.portalSuspended() : backend.commandComplete(`SELECT ${total}`));
  }

  private stopSignal(): AbortSignal {
    this.running = new AbortController();
    return this.running.signal;
  }

  private async run(text: string, params: readonly (string | null)[]): Promise<StatementRun> {
    try {
      return await this.endpoint.run(this.tenant!, text, params, () => this.stopSignal());
    } finally {
      this.running = null;
    }
  }

  private fields(shape: Pick<StatementRun, 'columns'>, formats: readonly number[]): FieldDescription[] {
    return shape.columns.map((c, i) => {
      const format = (formats.length === 1 ? formats[0] : (formats[i] ?? 0)) === 1 ? 1 : 0;
      const oid = announcedOid(pgTypeOid(c.type), format);
      return { name: c.name, typeOid: oid, typeSize: pgTypeSize(oid), format };
    });
  }

  private sendRows(answer: StatementRun, from: number, to: number, formats: readonly number[]): void {
    const fields = this.fields(answer, formats);
    for (let r = from; r < to; r++) {
      const row = answer.rows[r]!;
      this.send(
        backend.dataRow(
          row.map((v, i) => (fields[i]!.format === 1 ? binaryValue(v, fields[i]!.typeOid) : textValue(v))),
        ),
      );
    }
  }
}
