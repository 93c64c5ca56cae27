import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { policyContext } from "../../policy/context";
import { readStackConfig } from "../../scripts/stack-config";
import { ROOT, runProgram } from "../helpers/program";

/*
 * docs/backups.md's Storage Box (SFTP) example, as written there, renders and the policy pack reads it. It did neither:
 * the offline render stands "[secret]" in for the encrypted private key, which the key check refused, and the pack
 * threw on the config that did not validate.
 */
const doc = readFileSync(join(ROOT, "docs/backups.md"), "utf8");
const repository = doc.match(/pulumi config set visualkit:backupRepository (sftp:\/\/\S+) -s prod/)?.[1];

const dir = mkdtempSync(join(tmpdir(), "vk-sftp-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("docs/backups.md has the example", () => {
    expect(repository).toMatch(/^sftp:\/\/u123456@u123456\.your-storagebox\.de:23\//);
});

test("Pulumi.prod.yaml with the example (its key set with --secret) reads, validates for the policy pack, and renders", async () => {
    copyFileSync(join(ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
    const prod = readFileSync(join(ROOT, "Pulumi.prod.yaml"), "utf8").replace(/^ {2}visualkit:backupRepository: .*$/m, `  visualkit:backupRepository: ${repository}\n  visualkit:backupSftpPrivateKey:\n    secure: v1:c2FsdA==`);
    writeFileSync(join(dir, "Pulumi.prod.yaml"), prod);
    const file = readStackConfig(dir, "prod");
    expect(file.config["visualkit:backupRepository"]).toBe(repository);
    expect(file.secretKeys).toContain("visualkit:backupSftpPrivateKey");
    expect(() => policyContext({ ...file, stack: "prod" })).not.toThrow();
    expect(policyContext({ ...file, stack: "prod" }).backupRepository).toBe(repository);

    const run = await runProgram("prod", { set: { backupRepository: repository, backupSftpPrivateKey: file.config["visualkit:backupSftpPrivateKey"] }, secrets: ["backupSftpPrivateKey"] });
    expect(JSON.stringify(run.outputs).includes(repository!)).toBe(true);
});
