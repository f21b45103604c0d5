/**
 * Certificates for TLS tests and the TLS bench rows, made by `openssl` in a
 * directory: CAs, and keys with certificates they signed for 127.0.0.1 and
 * localhost, valid for two days.
 *
 * @example
 * ```ts
 * const { ca, cert, key } = await makeServerCerts(dir); // dir/ca.crt, dir/server.crt, dir/server.key
 * ```
 * @module
 */

/** Runs openssl in `dir`; throws with its stderr. */
async function openssl(dir: string, args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", {
    args,
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (!out.success) {
    throw new Error(`openssl ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/**
 * A self-signed CA: `dir/<name>.key` and `dir/<name>.crt`.
 *
 * @example
 * ```ts
 * await makeCa(dir, "other-ca");
 * ```
 */
export async function makeCa(dir: string, name: string): Promise<void> {
  await openssl(dir, [
    ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"],
    ...["-keyout", `${name}.key`, "-out", `${name}.crt`, "-subj", `/CN=kvdb test ${name}`],
  ]);
}

/**
 * `dir/<name>.key` and `dir/<name>.crt`, signed by the CA `ca` (made by
 * {@link makeCa} in `dir`) for 127.0.0.1 and localhost.
 *
 * @example
 * ```ts
 * await makeSigned(dir, "ca", "client");
 * ```
 */
export async function makeSigned(dir: string, ca: string, name: string): Promise<void> {
  await openssl(dir, [
    ...["req", "-newkey", "rsa:2048", "-nodes"],
    ...["-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`],
  ]);
  await Deno.writeTextFile(`${dir}/${name}.ext`, "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  await openssl(dir, [
    ...["x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.crt`, "-CAkey", `${ca}.key`],
    ...["-CAcreateserial", "-days", "2", "-out", `${name}.crt`, "-extfile", `${name}.ext`],
  ]);
}

/**
 * A CA and a server certificate it signed, in `dir`: their paths.
 *
 * @example
 * ```ts
 * const files = await makeServerCerts(dir);
 * ```
 */
export async function makeServerCerts(
  dir: string,
): Promise<{ ca: string; cert: string; key: string }> {
  await makeCa(dir, "ca");
  await makeSigned(dir, "ca", "server");
  return { ca: `${dir}/ca.crt`, cert: `${dir}/server.crt`, key: `${dir}/server.key` };
}
