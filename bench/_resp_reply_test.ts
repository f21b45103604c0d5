import assert from "node:assert/strict";
import { skipReply } from "./_resp_reply.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("skipReply finds where each kind of reply ends, and -1 for one cut short", () => {
  const replies = [
    "+OK\r\n",
    ":12\r\n",
    "-ERR no\r\n",
    "$3\r\nabc\r\n",
    "$-1\r\n",
    "*2\r\n$1\r\na\r\n:1\r\n",
    "*-1\r\n",
  ];
  const all = bytes(replies.join(""));
  let at = 0;
  for (const reply of replies) {
    const next = skipReply(all, at, all.length);
    assert.equal(next, at + reply.length, JSON.stringify(reply));
    at = next;
  }
  assert.equal(skipReply(all, at, all.length), -1);
  for (const reply of replies) {
    const b = bytes(reply);
    for (let end = 0; end < b.length; end++) {
      assert.equal(skipReply(b, 0, end), -1, JSON.stringify(reply));
    }
  }
});
