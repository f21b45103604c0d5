/**
 * Byte I/O helpers shared by the server, replication and the client.
 *
 * @example
 * ```ts
 * await writeAll(conn, joinLines([line1, line2]));
 * ```
 * @module
 */

/** Anything with Deno's `write` (a connection, a file, stdout). */
export interface ByteWriter {
  write(p: Uint8Array): Promise<number>;
}

/**
 * Writes all of `bytes` (`write` may take only part of them).
 *
 * @example
 * ```ts
 * await writeAll(Deno.stdout, new TextEncoder().encode("hi\n"));
 * ```
 */
export async function writeAll(writer: ByteWriter, bytes: Uint8Array): Promise<void> {
  // The whole first: a view per write is garbage a connection makes per reply batch.
  let written = bytes.length === 0 ? 0 : await writer.write(bytes);
  while (written < bytes.length) written += await writer.write(bytes.subarray(written));
}

/**
 * Joins lines into one buffer, each followed by `\n`.
 *
 * @example
 * ```ts
 * joinLines([new Uint8Array([0x61])]); // "a\n"
 * ```
 */
export function joinLines(lines: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const line of lines) length += line.length + 1;
  const out = new Uint8Array(length);
  let at = 0;
  for (const line of lines) {
    out.set(line, at);
    at += line.length;
    out[at++] = 0x0a;
  }
  return out;
}
