/** PEM blocks as Go's encoding/pem writes them: 64-character base64 lines, "\n" line ends. */

export interface PemBlock {
  readonly type: string;
  readonly der: Buffer;
}

export function encodePem(type: string, der: Buffer): string {
  const b64 = der.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${type}-----\n${lines.join('\n')}\n-----END ${type}-----\n`;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

/** Every PEM block in the text, in order (headers such as Proc-Type are not supported). */
export function decodePemBlocks(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK)) {
    const body = (m[2] as string).replace(/\s+/g, '');
    out.push({ type: m[1] as string, der: Buffer.from(body, 'base64') });
  }
  return out;
}

/** The first block of the given type, or undefined. */
export function firstPem(text: string, type: string): PemBlock | undefined {
  return decodePemBlocks(text).find((b) => b.type === type);
}
