import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { policyContext } from "../../policy/context";
import { readStackConfig } from "../../stack/stack-config";
import { ROOT, runProgram } from "../helpers/program";

/*
 * docs/backups.md's SFTP examples, as written there, render and the policy pack reads them. The Storage Box one did
 * neither: the offline render stands "[secret]" in for the encrypted private key, which the key check refused, and
 * the pack threw on the config that did not validate. Every example runs in prod's stack file (the strict stack); a
 * dev example (no append-only box) with `backupAppendOnly: false`.
 */
const doc = readFileSync(join(ROOT, "docs/backups.md"), "utf8");
const examples = [...doc.matchAll(/pulumi config set visualkit:backupRepository (sftp:\/\/\S+) -s (\w+)/g)].map((m) => ({ repository: m[1], stack: m[2] }));

const dir = mkdtempSync(join(tmpdir(), "vk-sftp-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("docs/backups.md has the append-only box's and the Storage Box's examples", () => {
    expect(examples.map((e) => [e.repository, e.stack])).toEqual([
        [expect.stringMatching(/^sftp:\/\/visualkit@backup\.example\.net:22\//), "prod"],
        [expect.stringMatching(/^sftp:\/\/u123456@u123456\.your-storagebox\.de:23\//), "dev"],
    ]);
});

test.each(examples)("Pulumi.prod.yaml with $repository (its key set with --secret) reads, validates for the policy pack, and renders", async ({ repository, stack }) => {
    copyFileSync(join(ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
    const appendOnly = stack === "prod";
    const prod = readFileSync(join(ROOT, "Pulumi.prod.yaml"), "utf8")
        .replace(/^ {2}visualkit:backupRepository: .*$/m, `  visualkit:backupRepository: ${repository}\n  visualkit:backupSftpPrivateKey:\n    secure: v1:c2FsdA==`)
        .replace(/^ {2}visualkit:backupAppendOnly: .*$/m, `  visualkit:backupAppendOnly: ${appendOnly}`);
    writeFileSync(join(dir, "Pulumi.prod.yaml"), prod);
    const file = readStackConfig(dir, "prod");
    expect(file.config["visualkit:backupRepository"]).toBe(repository);
    expect(file.config["visualkit:backupAppendOnly"]).toBe(String(appendOnly)); // the CLI stores every value as text
    expect(file.secretKeys).toContain("visualkit:backupSftpPrivateKey");
    expect(() => policyContext({ ...file, stack: "prod" })).not.toThrow();
    expect(policyContext({ ...file, stack: "prod" }).backupRepository).toBe(repository);

    const run = await runProgram("prod", { set: { backupRepository: repository, backupAppendOnly: appendOnly, backupSftpPrivateKey: file.config["visualkit:backupSftpPrivateKey"] }, secrets: ["backupSftpPrivateKey"] });
    expect(JSON.stringify(run.outputs).includes(repository)).toBe(true);
});
