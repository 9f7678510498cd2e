import { crc32 } from 'node:zlib';

/** Adds tEXt chunks (keyword → text, Latin-1) to a PNG, before IEND, as A1111 does with "parameters". */
export function withPngText(png: Buffer, entries: Record<string, string>): Buffer {
  const iend = png.length - 12;
  if (png.toString('latin1', iend + 4, iend + 8) !== 'IEND') throw new Error('Not a PNG ending in IEND');
  const chunks = Object.entries(entries).map(([key, text]) => {
    const data = Buffer.concat([Buffer.from(key, 'latin1'), Buffer.from([0]), Buffer.from(text.replace(/[^\x20-\xff\n]/g, '?'), 'latin1')]);
    const type = Buffer.from('tEXt', 'latin1');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([type, data])) >>> 0);
    return Buffer.concat([len, type, data, crc]);
  });
  return Buffer.concat([png.subarray(0, iend), ...chunks, png.subarray(iend)]);
}

/** Reads the tEXt chunks of a PNG. */
export function readPngText(png: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 8;
  while (at + 8 <= png.length) {
    const len = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    if (type === 'tEXt') {
      const data = png.subarray(at + 8, at + 8 + len);
      const nul = data.indexOf(0);
      out[data.toString('latin1', 0, nul)] = data.toString('latin1', nul + 1);
    }
    at += 12 + len;
  }
  return out;
}
