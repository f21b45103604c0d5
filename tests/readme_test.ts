/** The README's config reference stays in step with the config table. */

import assert from "node:assert/strict";
import { CONFIG_KEYS } from "../src/config/config.ts";

Deno.test("README documents every config key with its default", async () => {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const rows = readme.split("\n")
    .filter((line) => line.startsWith("|"))
    .map((line) => line.split("|").slice(1, -1).map((cell) => cell.trim()));
  for (const key of CONFIG_KEYS) {
    const row = rows.find((cells) => cells[0] === `\`${key.path}\``);
    assert.ok(row, `README has a row for ${key.path}`);
    assert.equal(row[1], `\`${key.defaultValue}\``, `README default of ${key.path}`);
  }
});
