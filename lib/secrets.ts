import * as pulumi from "@pulumi/pulumi";
import type { SecretString } from "../config/secret";

/**
 * The secret boundary: the one place a config secret (a `SecretString`, which never prints itself) becomes a Pulumi
 * secret, encrypted in the state and shown as `[secret]` in previews and outputs. Components pass the result on as a
 * resource input, or combine several with `pulumi.output({...}).apply(render)` when a pure renderer needs the plain
 * text (a value computed from a secret stays a secret), so no component ever holds a revealed config secret outside
 * an apply. test/lib/secrets.test.ts checks that nothing outside config/ and this file calls `reveal()`.
 */
export function toPulumiSecret(value: SecretString): pulumi.Output<string> {
    return pulumi.secret(value.reveal());
}

/** Each config secret of a record as its own Pulumi secret (secret environment variables, a pair of S3 keys). */
export function toPulumiSecrets<K extends string>(values: Readonly<Record<K, SecretString>>): Record<K, pulumi.Output<string>> {
    return Object.fromEntries(Object.entries<SecretString>(values).map(([k, v]) => [k, toPulumiSecret(v)])) as Record<K, pulumi.Output<string>>;
}
