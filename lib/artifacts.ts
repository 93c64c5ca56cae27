import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";

/**
 * Generated files (Caddyfile, cloud-init, Janus configs, ...) as the program deploys them. Components publish
 * the exact text they deploy; the offline render writes it to rendered/<stack>/ and the stack outputs carry
 * its SHA-256, so what a pull request shows is what the server gets.
 */
const files = new Map<string, pulumi.Output<string>>();

/** Publishes a generated file under a stable relative path; returns the SHA-256 of its content. */
export function publishFile(path: string, content: pulumi.Input<string>): pulumi.Output<string> {
    if (files.has(path)) throw new Error(`generated file ${path} is published twice`);
    const text = pulumi.output(content);
    files.set(path, text);
    // The hash of a file that embeds a secret reveals nothing usable, and tools compare hashes in plain text.
    return pulumi.unsecret(text.apply(sha256));
}

export function publishedFiles(): ReadonlyMap<string, pulumi.Output<string>> {
    return files;
}

/** For the mock runtime, which runs the program more than once in one process. */
export function resetPublishedFiles(): void {
    files.clear();
}

export function sha256(text: string): string {
    return createHash("sha256").update(text).digest("hex");
}
