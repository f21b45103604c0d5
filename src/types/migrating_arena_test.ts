import assert from "node:assert/strict";
import { MigratingArena } from "./migrating_arena.ts";
import { BYTE_PAGE_BYTES } from "./paged_bytes.ts";

Deno.test("MigratingArena: offsets name their arena across migrations; moves keep the bytes", () => {
  const arenas = new MigratingArena(1024);
  const write = (at: number, text: string) => {
    const page = arenas.page(at);
    for (let i = 0; i < text.length; i++) page[arenas.offsetInPage(at) + i] = text.charCodeAt(i);
  };
  const read = (at: number, length: number) =>
    String.fromCharCode(
      ...arenas.page(at).subarray(
        arenas.offsetInPage(at),
        arenas.offsetInPage(at) + length,
      ),
    );
  // Entries across pages, one long enough to be copied with `set`.
  const entries: { at: number; text: string }[] = [];
  for (let i = 0; i < 3000; i++) {
    const text = (i % 100 === 0 ? "L".repeat(500) : "e") + i;
    const at = arenas.alloc(text.length);
    write(at, text);
    entries.push({ at, text });
  }
  assert.ok(arenas.usedBytes > BYTE_PAGE_BYTES / 512);
  for (let round = 0; round < 3; round++) {
    arenas.beginMigration();
    assert.throws(() => arenas.beginMigration(), /one migration at a time/);
    // A new entry meanwhile lands in the new arena.
    const fresh = arenas.alloc(5);
    write(fresh, "fresh");
    assert.equal(arenas.isOld(fresh), false);
    for (const entry of entries) {
      assert.equal(arenas.isOld(entry.at), true);
      entry.at = arenas.move(entry.at, entry.text.length);
      assert.equal(arenas.isOld(entry.at), false);
    }
    arenas.free(fresh, 5);
    arenas.endMigration();
    assert.equal(arenas.migrating, false);
    for (const entry of entries) assert.equal(read(entry.at, entry.text.length), entry.text);
  }
  // Ending with a live entry left behind is refused.
  arenas.beginMigration();
  assert.throws(() => arenas.endMigration(), /nothing live in the old arena/);
});
