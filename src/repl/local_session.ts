/**
 * A {@link ReplSession} on an engine in this process (`kvdb cli`): each
 * request goes through the executor and the server's RESP reply writer (in
 * the session's RESP version, which `HELLO` changes), and the bytes are
 * read back by the client's reply parser, so `kvdb cli` shows exactly what
 * `kvdb client` shows for the same replies, without a network.
 *
 * @example
 * ```ts
 * const session = new LocalSession(executor, 4096);
 * await session.run([["SET", "k", "v"]]); // [{ type: "status", value: "OK" }]
 * ```
 * @module
 */

import { newSession } from "../executor/command_spec.ts";
import type { Executor } from "../executor/executor.ts";
import { OutBuffer } from "../protocol/out_buffer.ts";
import { RespReplyWriter } from "../protocol/resp_writer.ts";
import { type Reply, ReplyParser } from "./reply.ts";
import type { ReplSession } from "./session.ts";

/**
 * Runs requests on a local executor.
 *
 * @example
 * ```ts
 * const session = new LocalSession(executor, 4096, () => store.close());
 * ```
 */
export class LocalSession implements ReplSession {
  readonly maxRequestBytes: number;
  readonly #executor: Executor;
  readonly #out = new OutBuffer();
  readonly #session = newSession();
  readonly #writer = new RespReplyWriter(this.#out, this.#session);
  readonly #onClose: () => Promise<void>;

  constructor(
    executor: Executor,
    maxMessageBytes: number,
    onClose: () => Promise<void> = () => Promise.resolve(),
  ) {
    this.#executor = executor;
    this.maxRequestBytes = maxMessageBytes;
    this.#onClose = onClose;
  }

  async run(requests: readonly (readonly string[])[]): Promise<Reply[]> {
    this.#out.reset();
    for (const args of requests) {
      await this.#executor.execute(args as string[], this.#writer, this.#session);
    }
    await this.#executor.commit(this.#out, this.#writer, requests.length);
    const parser = new ReplyParser("resp");
    parser.push(this.#out.view());
    const replies: Reply[] = [];
    for (let reply = parser.next(); reply !== undefined; reply = parser.next()) {
      replies.push(reply);
    }
    return replies;
  }

  takePushes(): Reply[] {
    return [];
  }

  close(): Promise<void> {
    return this.#onClose();
  }
}
