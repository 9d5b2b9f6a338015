/**
 * A local text object's layout chosen as ingest chooses it (src/ingest/ingest-object.ts prepareObject): the object's
 * scan gives its head, and the flow-log verdict on that head gives the layout and whether line 1 is a header. Tests
 * that load a text object pick its layout here, so they load it the way production would.
 */
import { textLayoutVerdict, type TextLayout } from '../../src/ingest/format-sniff.ts';
import { scanTextObject } from '../../src/ingest/text-object-scan.ts';

export async function layoutOfObject(path: string, gzip: boolean): Promise<TextLayout> {
  const scan = await scanTextObject(path, gzip);
  return textLayoutVerdict(scan.head, scan.complete);
}
