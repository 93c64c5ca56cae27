import type { FolderFacts, LocalFacts } from "../../../config/raw";
import { readLocal } from "../../../config/sections/local";
import { SecretString } from "../../../config/secret";
import { issue, readSection } from "../../helpers/config-reader";

const at = (f: Omit<Extract<FolderFacts, { kind: "folder" }>, "kind" | "path"> | "missing" | "file", sshAgent?: LocalFacts["sshAgent"]): LocalFacts => ({
    folder: (path) => (typeof f === "string" ? { kind: f, path: `/p/${path}` } : { kind: "folder", path: `/p/${path}`, ...f }),
    sshAgent,
});
const built = { files: 2, broken: [], linkedFolders: [] };

describe("local section (this machine's folder and ssh-agent)", () => {
    test.each([
        ["no widget folder and not deploying", {}, at("missing"), undefined],
        ["a built widget folder", { widgetCdnSourceDir: "widget/dist" }, at(built), "widget/dist"],
        ["deploying with a running agent", {}, at("missing", { state: "running", socket: "/tmp/agent" }), undefined],
    ])("%s passes", (_, values, local, dir) => {
        expect(readSection((r) => readLocal(r, undefined), values, { local })).toEqual({ value: { widgetCdnSourceDir: dir }, issues: [] });
    });

    test("deploying without an agent is fine when a private key is stored", () => {
        expect(readSection((r) => readLocal(r, new SecretString("k")), {}, { local: at("missing", { state: "unset" }) }).issues).toEqual([]);
    });

    test.each([
        ["a widget folder that does not exist", { widgetCdnSourceDir: "widget/dist" }, at("missing"), issue("widgetCdnSourceDir", /\/p\/widget\/dist does not exist/, /point visualkit:widgetCdnSourceDir in Pulumi\.prod\.yaml at the built widget files/)],
        ["an empty widget folder", { widgetCdnSourceDir: "w" }, at({ files: 0, broken: [], linkedFolders: [] }), issue("widgetCdnSourceDir", /holds no files; a sync would empty the CDN/, /build the widget into it first/)],
        ["a dangling link", { widgetCdnSourceDir: "w" }, at({ ...built, broken: ["old.js"] }), issue("widgetCdnSourceDir", /links that point nowhere: old\.js/, /remove the links/)],
        ["a link to a folder", { widgetCdnSourceDir: "w" }, at({ ...built, linkedFolders: ["v1"] }), issue("widgetCdnSourceDir", /links to folders, which the upload cannot copy: v1/, /replace each link with the folder/)],
        ["no agent and no stored key", {}, at("missing", { state: "unset" }), issue("sshPrivateKey", /no ssh-agent is running/, /ssh-add ~\/\.ssh\/id_ed25519/)],
        ["an agent socket that is gone", {}, at("missing", { state: "stale", socket: "/tmp/gone" }), issue("SSH_AUTH_SOCK", /names \/tmp\/gone, which is not a socket/, /or unset SSH_AUTH_SOCK/)],
    ])("%s is reported with its key and fix", (_, values, local, expected) => {
        expect(readSection((r) => readLocal(r, undefined), values, { local }).issues).toEqual([expected]);
    });
});
