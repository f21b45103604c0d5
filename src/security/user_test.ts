import assert from "node:assert/strict";
import { hashPassword, passwordMatches } from "./password.ts";
import { mergeSelectorArguments, User } from "./user.ts";
import { aclCommand } from "./categories.ts";
import { ACL_DENIED_CMD, ACL_DENIED_KEY, ACL_OK, checkPermission } from "./permissions.ts";

function user(...rules: string[]): User {
  const u = new User("u");
  for (const r of rules) assert.equal(u.apply(r), undefined, r);
  u.refresh();
  return u;
}

Deno.test("User: passwords only as SHA-256; a described user is rebuilt by its description", () => {
  const u = user(
    "on",
    ">secret",
    "~k*",
    "%R~r*",
    "&ch",
    "-@all",
    "+@hash",
    "-hget",
    "+get",
    "(+set ~s*)",
  );
  assert.deepEqual(u.passwords, [hashPassword("secret")]);
  assert.ok(!u.describe().includes("secret"));
  const again = new User("v");
  const words = mergeSelectorArguments(u.describe().split(" "));
  assert.ok(Array.isArray(words));
  for (const w of words) assert.equal(again.apply(w), undefined, w);
  assert.equal(again.describe(), u.describe());
});

Deno.test("User: unrestricted only with every command, key and channel", () => {
  assert.ok(user("+@all", "~*", "&*").unrestricted);
  assert.ok(!user("+@all", "~*").unrestricted);
  assert.ok(!user("+@all", "~*", "&*", "-debug").unrestricted);
});

Deno.test("checkPermission: commands, read and write key patterns", () => {
  const u = user("on", "nopass", "+get", "+set", "%R~r*", "~k*");
  assert.equal(checkPermission(u, aclCommand("get")!, ["GET", "r1"]).result, ACL_OK);
  assert.equal(checkPermission(u, aclCommand("set")!, ["SET", "r1", "v"]).result, ACL_DENIED_KEY);
  assert.equal(checkPermission(u, aclCommand("set")!, ["SET", "k1", "v"]).result, ACL_OK);
  assert.equal(checkPermission(u, aclCommand("del")!, ["DEL", "k1"]).result, ACL_DENIED_CMD);
});

Deno.test("passwordMatches compares hashes", () => {
  assert.ok(passwordMatches(hashPassword("a"), hashPassword("a")));
  assert.ok(!passwordMatches(hashPassword("a"), hashPassword("b")));
  assert.ok(!passwordMatches(hashPassword("a"), "short"));
});
