import { describe, expect, it } from 'vitest';
import { InputError } from '../../../src/domain/input-error.ts';
import { decodeHandshakeCursor, encodeHandshakeCursor } from '../../../src/graphql/types/handshake.ts';

const forge = (parts: unknown[]) => Buffer.from(JSON.stringify(parts)).toString('base64url');
const key = {
  startTime: new Date('2024-05-01T10:00:00Z'),
  clientAddr: '10.0.0.1',
  clientPort: 50000,
  serverAddr: '10.0.0.2',
  serverPort: 443,
};

describe('handshake cursors', () => {
  it('round-trip a key', () => {
    expect(decodeHandshakeCursor(encodeHandshakeCursor(key))).toEqual(key);
  });

  it('refuse forged values as a bad `after`, never an invalid date or port', () => {
    const forged = [
      forge(['h1', 8.64e15 + 1, '10.0.0.1', 1, '10.0.0.2', 2]),
      forge(['h1', -1, '10.0.0.1', 1, '10.0.0.2', 2]),
      forge(['h1', 0, '10.0.0.1', 70000, '10.0.0.2', 2]),
      forge(['h1', 0, 'x'.repeat(1000), 1, '10.0.0.2', 2]),
      forge(['h1', 0, '10.0.0.1', 1.5, '10.0.0.2', 2]),
      'not-base64-json',
    ];
    for (const cursor of forged) {
      expect(() => decodeHandshakeCursor(cursor), cursor).toThrow(InputError);
      try {
        decodeHandshakeCursor(cursor);
      } catch (err) {
        expect((err as InputError).argument).toBe('after');
      }
    }
  });
});
