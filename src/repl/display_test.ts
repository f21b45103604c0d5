// Shapes redis-cli itself cannot show (tests/client_display_test.ts compares
// the rest with redis-cli's output).

import assert from "node:assert/strict";
import { formatRaw, formatReply, formatTty } from "./display.ts";
import type { Reply } from "./reply.ts";

Deno.test("big numbers: `(big number)` for a person, the digits raw", () => {
  const big: Reply = { type: "bignum", value: "-12345678901234567890" };
  assert.equal(formatTty(big, ""), "(big number) -12345678901234567890\n");
  assert.equal(formatRaw(big), "-12345678901234567890");
});

Deno.test("pushes: numbered as arrays; an empty one is named", () => {
  const push: Reply = {
    type: "push",
    items: [{ type: "bulk", value: "message" }, { type: "integer", value: 1n }],
  };
  assert.equal(formatTty(push, ""), '1) "message"\n2) (integer) 1\n');
  assert.equal(formatTty({ type: "push", items: [] }, ""), "(empty push)\n");
});

Deno.test("a NUL ends a status or error line, as redis-cli prints them", () => {
  assert.equal(formatTty({ type: "status", value: "a\x00b" }, ""), "a\n");
  assert.equal(formatTty({ type: "error", value: "ERR a\x00b" }, ""), "(error) ERR a\n");
});

Deno.test("the original's commands: their text-protocol lines, errors in its words", () => {
  const arity: Reply = { type: "error", value: "ERR wrong number of arguments for 'del' command" };
  assert.equal(
    formatReply(["del"], arity, "tty"),
    "ERROR: invalid number of arguments for 'del' command\n",
  );
  const readonly: Reply = {
    type: "error",
    value: "READONLY You can't write against a read only replica.",
  };
  assert.equal(
    formatReply(["SET", "k", "v"], readonly, "raw"),
    "ERROR: write operations not allowed on slave replica\n",
  );
  assert.equal(formatReply(["Del", "k"], { type: "integer", value: 1n }, "tty"), "OK\n");
  assert.equal(formatReply(["GET", "k"], { type: "bulk", value: " x" }, "tty"), '" x"\n');
  // Anything else keeps Redis's words.
  assert.equal(
    formatReply(["MGET"], arity, "tty"),
    "(error) ERR wrong number of arguments for 'del' command\n",
  );
});
