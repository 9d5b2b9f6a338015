/**
 * The PostgreSQL v3 wire protocol's framing, for the messages flowql's SQL endpoint reads and writes
 * (https://www.postgresql.org/docs/current/protocol-message-formats.html). Reading: the untyped first message
 * (StartupMessage, SSLRequest, GSSENCRequest, CancelRequest), then typed frontend messages. Writing: one function per
 * backend message, each returning the whole frame so a session can batch its replies into one socket write.
 */

/** Protocol version 3.0 in a StartupMessage. */
export const PROTOCOL_3 = 196608;
/** Magic "versions" of the untyped requests a client may send before (or instead of) a StartupMessage. */
export const SSL_REQUEST = 80877103;
export const GSSENC_REQUEST = 80877104;
export const CANCEL_REQUEST = 80877102;

/** The first message of a connection. */
export type FirstMessage =
  | { readonly kind: 'startup'; readonly params: Readonly<Record<string, string>> }
  | { readonly kind: 'ssl' }
  | { readonly kind: 'gssenc' }
  | { readonly kind: 'cancel'; readonly processId: number; readonly secret: number }
  | { readonly kind: 'unsupported'; readonly version: number };

/** A typed frontend message: its type byte and body. */
export interface FrontendMessage {
  readonly type: string;
  readonly body: Buffer;
}

/** Most bytes of one frontend message (a query text of 64 MiB is a mistake or an attack, not a BI tool). */
export const MAX_MESSAGE_BYTES = 64 * 2 ** 20;

/** Thrown when a client sends bytes that are not a v3 frame. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

/** Splits a byte stream into messages; `first` is true until the connection's untyped first message was read. */
export class MessageReader {
  private buffered: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
  }

  /** The untyped first message, or null until all of it has arrived. */
  nextFirst(): FirstMessage | null {
    if (this.buffered.length < 8) return null;
    const length = this.buffered.readInt32BE(0);
    if (length < 8 || length > 10_000) throw new ProtocolError(`invalid startup packet length ${length}`);
    if (this.buffered.length < length) return null;
    const body = this.buffered.subarray(4, length);
    this.buffered = this.buffered.subarray(length);
    const version = body.readInt32BE(0);
    if (version === SSL_REQUEST) return { kind: 'ssl' };
    if (version === GSSENC_REQUEST) return { kind: 'gssenc' };
    if (version === CANCEL_REQUEST) {
      if (body.length < 12) throw new ProtocolError('short CancelRequest');
      return { kind: 'cancel', processId: body.readInt32BE(4), secret: body.readInt32BE(8) };
    }
    if (version !== PROTOCOL_3) return { kind: 'unsupported', version };
    const fields = body.subarray(4).toString('utf8').split('\0');
    const params: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length && fields[i] !== ''; i += 2) params[fields[i]!] = fields[i + 1]!;
    return { kind: 'startup', params };
  }

  /** The next typed message, or null until all of it has arrived. */
  next(): FrontendMessage | null {
    if (this.buffered.length < 5) return null;
    const length = this.buffered.readInt32BE(1);
    if (length < 4 || length > MAX_MESSAGE_BYTES) throw new ProtocolError(`invalid message length ${length}`);
    if (this.buffered.length < length + 1) return null;
    const type = String.fromCharCode(this.buffered[0]!);
    const body = this.buffered.subarray(5, length + 1);
    this.buffered = this.buffered.subarray(length + 1);
    return { type, body };
  }
}

/** Reads the fields of a message body in order. */
export class BodyReader {
  private offset = 0;
  constructor(private readonly body: Buffer) {}

  cstring(): string {
    const end = this.body.indexOf(0, this.offset);
    if (end < 0) throw new ProtocolError('unterminated string in message');
    const text = this.body.toString('utf8', this.offset, end);
    this.offset = end + 1;
    return text;
  }
  int16(): number {
    const v = this.body.readInt16BE(this.offset);
    this.offset += 2;
    return v;
  }
  int32(): number {
    const v = this.body.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  byte(): string {
    return String.fromCharCode(this.body[this.offset++]!);
  }
  /** A length-prefixed value (-1 = NULL). */
  bytes(): Buffer | null {
    const n = this.int32();
    if (n < 0) return null;
    const v = this.body.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }
}

/** Builds one backend frame: type byte, length, body. */
class Frame {
  private readonly parts: Buffer[] = [];
  private size = 0;
  constructor(private readonly type: string) {}
  int16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeInt16BE(v);
    return this.add(b);
  }
  int32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    return this.add(b);
  }
  cstring(s: string): this {
    return this.add(Buffer.from(`${s}\0`, 'utf8'));
  }
  add(b: Buffer): this {
    this.parts.push(b);
    this.size += b.length;
    return this;
  }
  done(): Buffer {
    const head = Buffer.alloc(5);
    head.write(this.type, 0, 'latin1');
    head.writeInt32BE(this.size + 4, 1);
    return Buffer.concat([head, ...this.parts], this.size + 5);
  }
}

/** A column of a RowDescription. */
export interface FieldDescription {
  readonly name: string;
  readonly typeOid: number;
  readonly typeSize: number;
  /** 0 text, 1 binary. */
  readonly format: 0 | 1;
}

/** The fields of an ErrorResponse or NoticeResponse. */
export interface ErrorFields {
  readonly severity?: 'ERROR' | 'FATAL';
  /** SQLSTATE, e.g. 42501. */
  readonly code: string;
  readonly message: string;
  readonly detail?: string;
  readonly hint?: string;
}

export const backend = {
  authenticationOk: () => new Frame('R').int32(0).done(),
  authenticationCleartextPassword: () => new Frame('R').int32(3).done(),
  parameterStatus: (name: string, value: string) => new Frame('S').cstring(name).cstring(value).done(),
  backendKeyData: (processId: number, secret: number) => new Frame('K').int32(processId).int32(secret).done(),
  /** `status`: I idle, T in a transaction block, E in a failed one. */
  readyForQuery: (status: 'I' | 'T' | 'E' = 'I') => new Frame('Z').add(Buffer.from(status, 'latin1')).done(),
  rowDescription(fields: readonly FieldDescription[]): Buffer {
    const f = new Frame('T').int16(fields.length);
    for (const field of fields)
      f.cstring(field.name).int32(0).int16(0).int32(field.typeOid).int16(field.typeSize).int32(-1).int16(field.format);
    return f.done();
  },
  dataRow(values: readonly (Buffer | null)[]): Buffer {
    const f = new Frame('D').int16(values.length);
    for (const v of values) {
      if (v === null) f.int32(-1);
      else f.int32(v.length).add(v);
    }
    return f.done();
  },
  commandComplete: (tag: string) => new Frame('C').cstring(tag).done(),
  emptyQueryResponse: () => new Frame('I').done(),
  parseComplete: () => new Frame('1').done(),
  bindComplete: () => new Frame('2').done(),
  closeComplete: () => new Frame('3').done(),
  noData: () => new Frame('n').done(),
  portalSuspended: () => new Frame('s').done(),
  parameterDescription(oids: readonly number[]): Buffer {
    const f = new Frame('t').int16(oids.length);
    for (const oid of oids) f.int32(oid);
    return f.done();
  },
  errorResponse(e: ErrorFields): Buffer {
    const severity = e.severity ?? 'ERROR';
    const f = new Frame('E').add(Buffer.from('S')).cstring(severity).add(Buffer.from('V')).cstring(severity);
    f.add(Buffer.from('C')).cstring(e.code).add(Buffer.from('M')).cstring(e.message);
    if (e.detail) f.add(Buffer.from('D')).cstring(e.detail);
    if (e.hint) f.add(Buffer.from('H')).cstring(e.hint);
    return f.add(Buffer.from([0])).done();
  },
};
