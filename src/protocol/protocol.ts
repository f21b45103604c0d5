/**
 * The two wire protocols behind one interface, and the rule that picks one
 * per connection (`network.protocol`): `auto` — a connection whose first
 * byte is `*` speaks RESP for its whole life, any other first byte means
 * the text protocol; `resp` or `text` — every connection speaks that one.
 *
 * @example
 * ```ts
 * const { decoder, writer } = protocolFor("auto", firstByte, 4096, out);
 * ```
 * @module
 */

import type { OutBuffer } from "./out_buffer.ts";
import type { CommandError, ProtocolVersion, ReplyWriter } from "./reply_writer.ts";
import { RespRequestDecoder } from "./resp_decoder.ts";
import { RespReplyWriter } from "./resp_writer.ts";
import { TextRequestDecoder } from "./text_decoder.ts";
import { TextReplyWriter } from "./text_writer.ts";

/**
 * An incremental request decoder. After {@link decode} returns a positive
 * count, `args` holds a request, or `error` a reply to send (and close after
 * it when `fatal`), or neither (bytes skipped).
 */
export interface RequestDecoder {
  args: string[] | undefined;
  error: CommandError | undefined;
  fatal: boolean;
  /** Bytes that, once buffered, always let `decode` make progress. */
  readonly maxBufferedBytes: number;
  /**
   * True while the decoder has consumed part of a request that is not
   * complete (an oversized line being skipped); the bytes it has not
   * consumed are the caller's to see.
   */
  readonly midRequest: boolean;
  /**
   * Set by the connection while its client must still authenticate: the
   * decoder then refuses requests a stranger has no need to send (see
   * _unauthenticated.ts), so it buffers little for them.
   */
  unauthenticated: boolean;
  /** Decodes at most one request from `bytes[start, end)`; bytes used (0: need more). */
  decode(bytes: Uint8Array, start: number, end: number): number;
}

/** A connection's protocol: how it reads requests and writes replies. */
export interface Protocol {
  name: "text" | "resp";
  decoder: RequestDecoder;
  writer: ReplyWriter;
}

const STAR = 0x2a;

/** `network.protocol`: how a connection's protocol is chosen. */
export type ProtocolMode = "auto" | "resp" | "text";

/** Every `network.protocol` value. */
export const PROTOCOL_MODES: readonly ProtocolMode[] = ["auto", "resp", "text"];

/**
 * The protocol a connection speaks: in `auto` mode from its first byte (`*`:
 * RESP, anything else: text); in `resp` and `text` mode always that one.
 * RESP replies follow `version` (the session's, which HELLO changes).
 *
 * @example
 * ```ts
 * protocolFor("auto", 0x2a, 4096, out).name; // "resp"
 * ```
 */
export function protocolFor(
  mode: ProtocolMode,
  firstByte: number,
  maxMessageBytes: number,
  out: OutBuffer,
  version?: ProtocolVersion,
): Protocol {
  return mode === "resp" || (mode === "auto" && firstByte === STAR)
    ? {
      name: "resp",
      decoder: new RespRequestDecoder(maxMessageBytes),
      writer: new RespReplyWriter(out, version),
    }
    : {
      name: "text",
      decoder: new TextRequestDecoder(maxMessageBytes),
      writer: new TextReplyWriter(out),
    };
}
