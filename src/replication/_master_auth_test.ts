import assert from "node:assert/strict";
import { splitInlineArguments } from "../protocol/inline_split.ts";
import { TextRequestDecoder } from "../protocol/text_decoder.ts";
import { authAccepted, authLine, isAuthRefusal, isErrorReply } from "./_master_auth.ts";

const awkward = { user: "rep l", password: "p \"w'\\ x\u00e9" };

Deno.test("authLine: the text protocol reads back the user and password byte for byte", () => {
  const bytes = new TextEncoder().encode(authLine(awkward));
  const decoder = new TextRequestDecoder(4096);
  assert.equal(decoder.decode(bytes, 0, bytes.length), bytes.length);
  assert.deepEqual(decoder.args, ["AUTH", awkward.user, awkward.password]);
});

Deno.test("authLine: RESP's inline splitting reads back the same arguments", () => {
  const bytes = new TextEncoder().encode(authLine({ user: "", password: awkward.password }));
  assert.deepEqual(splitInlineArguments(bytes, 0, bytes.length - 1), [
    "AUTH",
    awkward.password,
  ]);
});

Deno.test("isAuthRefusal: the master's refusals in both protocols, nothing else", () => {
  for (
    const line of [
      "-NOAUTH Authentication required.",
      "-WRONGPASS invalid username-password pair or user is disabled.",
      "-NOPERM this user has no permissions to run the 'replsync' command",
      "ERROR: Authentication required.",
      "ERROR: this user has no permissions to run the 'replsync' command",
      "ERROR: invalid username-password pair or user is disabled. ('auth' command)",
    ]
  ) {
    assert.equal(isAuthRefusal(line), true, line);
  }
  for (const line of ["+OK", "OK", "-ERR unknown", "ERROR: this server is a replica", "NOAUTH"]) {
    assert.equal(isAuthRefusal(line), false, line);
  }
  assert.equal(authAccepted("+OK"), true);
  assert.equal(authAccepted("OK"), true);
  assert.equal(authAccepted("-WRONGPASS x"), false);
  assert.equal(isErrorReply("-ERR x"), true);
  assert.equal(isErrorReply("ERROR: x"), true);
  assert.equal(isErrorReply("+OK"), false);
});
