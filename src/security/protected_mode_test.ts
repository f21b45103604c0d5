import assert from "node:assert/strict";
import { Acl } from "./acl.ts";
import { isLoopbackHost, protectedModeDenies } from "./protected_mode.ts";

const peer = (hostname: string): Deno.Addr => ({ transport: "tcp", hostname, port: 50000 });

Deno.test("isLoopbackHost: 127/8, ::1 and IPv4-mapped 127.x only", () => {
  for (const h of ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "::ffff:127.0.0.1"]) {
    assert.ok(isLoopbackHost(h), h);
  }
  for (
    const h of ["10.0.0.1", "192.168.1.5", "::ffff:10.1.2.3", "fe80::1", "128.0.0.1", "0.0.0.0"]
  ) {
    assert.ok(!isLoopbackHost(h), h);
  }
});

Deno.test("protected mode: only a passwordless server refuses non-loopback peers", () => {
  const open = new Acl({ requirepass: "", aclFile: "" });
  assert.ok(protectedModeDenies(true, open, peer("10.0.0.7")));
  assert.ok(!protectedModeDenies(true, open, peer("127.0.0.1")));
  assert.ok(!protectedModeDenies(false, open, peer("10.0.0.7")), "protected mode off");
  const locked = new Acl({ requirepass: "pw", aclFile: "" });
  assert.ok(!protectedModeDenies(true, locked, peer("10.0.0.7")), "a password lifts it");
  locked.setRequirePass("");
  assert.ok(
    protectedModeDenies(true, locked, peer("10.0.0.7")),
    "CONFIG SET requirepass '' restores it",
  );
});
