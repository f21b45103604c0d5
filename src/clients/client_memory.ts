/**
 * What one client costs the server, as CLIENT LIST's `tot-mem` shows it
 * and `maxmemory-clients` counts it: a fixed overhead for its objects, its
 * read buffer (the query buffer: bytes read and not yet executed, in a
 * buffer of at least 64 KiB), its unsent output (replies and messages,
 * values held by reference counted at their size, as Redis copies them)
 * and a queued transaction's commands.
 *
 * @example
 * ```ts
 * clientMemoryBytes(client.io, client.session.multi?.bytes ?? 0); // 66560 for an idle client
 * ```
 * @module
 */

/** Bytes a connection costs beyond its buffers (its objects, its session). */
export const CLIENT_BASE_BYTES = 1024;

/** The buffer sizes a client's memory is made of. */
export interface ClientBuffers {
  /** Size of the read buffer (qbuf + qbuf-free). */
  readonly readBufferBytes: number;
  /** Output not yet sent, in bytes. */
  readonly outputBytes: number;
}

/**
 * A client's memory in bytes: {@link CLIENT_BASE_BYTES}, its read buffer,
 * its unsent output and `multiBytes` (a queued transaction's arguments).
 *
 * @example
 * ```ts
 * clientMemoryBytes({ readBufferBytes: 65536, outputBytes: 0 }, 0); // 66560
 * ```
 */
export function clientMemoryBytes(io: ClientBuffers, multiBytes: number): number {
  return CLIENT_BASE_BYTES + io.readBufferBytes + io.outputBytes + multiBytes;
}
