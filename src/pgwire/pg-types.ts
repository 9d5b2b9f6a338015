/**
 * DuckDB result types as PostgreSQL sees them: the type OID a RowDescription announces (so psql aligns numbers,
 * node-postgres parses BIGINT as a string and JDBC picks getLong), and each value's text or binary form. Types
 * PostgreSQL has no match for (lists, structs, maps, enums) are sent as text in DuckDB's own notation.
 */
import { DuckDBTypeId, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';

/** PostgreSQL type OIDs flowql announces. */
export const PG_OID = {
  bool: 16,
  bytea: 17,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  float4: 700,
  float8: 701,
  varchar: 1043,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  timestamptz: 1184,
  interval: 1186,
  numeric: 1700,
  uuid: 2950,
} as const;

const SIZE: Record<number, number> = { 16: 1, 20: 8, 21: 2, 23: 4, 700: 4, 701: 8, 1082: 4, 1083: 8, 1114: 8, 1184: 8 };

/** The OID announced for a DuckDB type. */
export function pgTypeOid(type: DuckDBType): number {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return PG_OID.bool;
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.UTINYINT:
      return PG_OID.int2;
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.USMALLINT:
      return PG_OID.int4;
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UINTEGER:
      return PG_OID.int8;
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.DECIMAL:
      return PG_OID.numeric;
    case DuckDBTypeId.FLOAT:
      return PG_OID.float4;
    case DuckDBTypeId.DOUBLE:
      return PG_OID.float8;
    case DuckDBTypeId.VARCHAR:
      return PG_OID.varchar;
    case DuckDBTypeId.DATE:
      return PG_OID.date;
    case DuckDBTypeId.TIME:
      return PG_OID.time;
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return PG_OID.timestamp;
    case DuckDBTypeId.TIMESTAMP_TZ:
      return PG_OID.timestamptz;
    case DuckDBTypeId.INTERVAL:
      return PG_OID.interval;
    case DuckDBTypeId.BLOB:
      return PG_OID.bytea;
    case DuckDBTypeId.UUID:
      return PG_OID.uuid;
    default:
      return PG_OID.text;
  }
}

/** The size field of a RowDescription (-1 = variable). */
export function pgTypeSize(oid: number): number {
  return SIZE[oid] ?? -1;
}

/** OIDs whose binary form flowql writes; a column asked for in binary of another type is announced as text. */
const BINARY_OIDS = new Set<number>([
  PG_OID.bool,
  PG_OID.int2,
  PG_OID.int4,
  PG_OID.int8,
  PG_OID.float4,
  PG_OID.float8,
  PG_OID.text,
  PG_OID.varchar,
  PG_OID.date,
  PG_OID.timestamp,
  PG_OID.timestamptz,
]);

/** The OID to announce for a column sent in `format`. */
export function announcedOid(oid: number, format: 0 | 1): number {
  return format === 1 && !BINARY_OIDS.has(oid) ? PG_OID.text : oid;
}

const hex = (bytes: Uint8Array): string => `\\x${Buffer.from(bytes).toString('hex')}`;

/** PostgreSQL's text form of a value. */
export function textValue(value: DuckDBValue): Buffer | null {
  if (value === null) return null;
  if (typeof value === 'boolean') return Buffer.from(value ? 't' : 'f');
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (typeof value === 'object' && 'bytes' in value && value.bytes instanceof Uint8Array)
    return Buffer.from(hex(value.bytes));
  return Buffer.from(String(value), 'utf8');
}

/** Days and microseconds between the Unix epoch and PostgreSQL's (2000-01-01). */
const PG_EPOCH_DAYS = 10_957;
const PG_EPOCH_MICROS = 946_684_800_000_000n;

/** PostgreSQL's binary form of a value announced as `oid` (see announcedOid). */
export function binaryValue(value: DuckDBValue, oid: number): Buffer | null {
  if (value === null) return null;
  const b8 = () => Buffer.alloc(8);
  switch (oid) {
    case PG_OID.bool:
      return Buffer.from([value ? 1 : 0]);
    case PG_OID.int2: {
      const b = Buffer.alloc(2);
      b.writeInt16BE(Number(value));
      return b;
    }
    case PG_OID.int4: {
      const b = Buffer.alloc(4);
      b.writeInt32BE(Number(value));
      return b;
    }
    case PG_OID.int8: {
      const b = b8();
      b.writeBigInt64BE(BigInt(value as bigint | number));
      return b;
    }
    case PG_OID.float4: {
      const b = Buffer.alloc(4);
      b.writeFloatBE(Number(value));
      return b;
    }
    case PG_OID.float8: {
      const b = b8();
      b.writeDoubleBE(Number(value));
      return b;
    }
    case PG_OID.date: {
      const b = Buffer.alloc(4);
      b.writeInt32BE((value as { days: number }).days - PG_EPOCH_DAYS);
      return b;
    }
    case PG_OID.timestamp:
    case PG_OID.timestamptz: {
      const b = b8();
      b.writeBigInt64BE((value as { micros: bigint }).micros - PG_EPOCH_MICROS);
      return b;
    }
    default:
      return textValue(value);
  }
}

/** A parameter sent in binary: integers and floats by their announced type, anything else as UTF-8 text. */
export function binaryParameter(value: Buffer, oid: number | undefined): string {
  if (oid === 20 && value.length === 8) return value.readBigInt64BE().toString();
  if (oid === 23 && value.length === 4) return String(value.readInt32BE());
  if (oid === 21 && value.length === 2) return String(value.readInt16BE());
  if (oid === 701 && value.length === 8) return String(value.readDoubleBE());
  if (oid === 700 && value.length === 4) return String(value.readFloatBE());
  if (oid === 16 && value.length === 1) return value[0] ? 'true' : 'false';
  return value.toString('utf8');
}
