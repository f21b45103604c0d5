/**
 * A {@link ReplSession} on an engine in this process (`kvdb cli`): request
 * lines go through the same text decoder, executor and reply writer as a
 * server connection, so the display is identical, without a network.
 *
 * @example
 * ```ts
 * const session = new LocalSession(executor, 4096);
 * await session.run([new TextEncoder().encode("SET k v")]); // [OK]
 * ```
 * @module
 */

import { newSession } from "../executor/command_spec.ts";
import type { Executor } from "../executor/executor.ts";
import { OutBuffer } from "../protocol/out_buffer.ts";
import { TextRequestDecoder } from "../protocol/text_decoder.ts";
import { TextReplyWriter } from "../protocol/text_writer.ts";
import type { ReplSession } from "./session.ts";

const LF = 0x0a;

/**
 * Runs requests on a local executor.
 *
 * @example
 * ```ts
 * const session = new LocalSession(executor, 4096, () => store.close());
 * ```
 */
export class LocalSession implements ReplSession {
  readonly #executor: Executor;
  readonly #decoder: TextRequestDecoder;
  readonly #out = new OutBuffer();
  readonly #session = newSession();
  readonly #writer = new TextReplyWriter(this.#out);
  readonly #onClose: () => Promise<void>;

  constructor(
    executor: Executor,
    maxMessageBytes: number,
    onClose: () => Promise<void> = () => Promise.resolve(),
  ) {
    this.#executor = executor;
    this.#decoder = new TextRequestDecoder(maxMessageBytes);
    this.#onClose = onClose;
  }

  async run(lines: Uint8Array[]): Promise<Uint8Array[]> {
    this.#out.reset();
    for (const line of lines) {
      const request = new Uint8Array(line.length + 1);
      request.set(line);
      request[line.length] = LF;
      // One line always decodes whole: an oversized one as an error.
      this.#decoder.decode(request, 0, request.length);
      if (this.#decoder.args !== undefined) {
        await this.#executor.execute(this.#decoder.args, this.#writer, this.#session);
      } else {
        this.#writer.begin(undefined, 0);
        this.#writer.error(this.#decoder.error!);
      }
    }
    await this.#executor.commit(this.#out, this.#writer, lines.length);
    const replies: Uint8Array[] = [];
    const bytes = this.#out.view();
    let start = 0;
    for (let i = bytes.indexOf(LF); i >= 0; i = bytes.indexOf(LF, start)) {
      replies.push(bytes.slice(start, i));
      start = i + 1;
    }
    return replies;
  }

  close(): Promise<void> {
    return this.#onClose();
  }
}
