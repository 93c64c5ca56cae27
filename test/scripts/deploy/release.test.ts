import { currentImage, loadStackFile, parseChange, rollbackTarget, setImage, stackFileText, type History, type HistoryEntry } from "../../../scripts/deploy/release";
import { findTarget } from "../../../scripts/deploy/targets";

/** The pure half of deploy/rollback: what a name and an image mean, the stack file edit, the history's answer. */

const DIGEST = "sha256:" + "ab".repeat(32);

describe("targets come from the catalog", () => {
    test.each([
        ["platform-api", "platform-api", "visualkit:imagePlatformApi"],
        ["vk-agent", "vk-agent", "visualkit:imageVkAgent"],
        ["janus", "janus-gateway", "visualkit:imageJanus"],
        ["chatwoot", "chatwoot-rails", "visualkit:imageChatwoot"],
        ["chatwoot-postgres", "chatwoot-postgres", "visualkit:imagePostgres"],
        ["platform-ws", "platform-ws", "visualkit:imageWebsocket"],
    ])("%s → container %s, key %s", (name, container, key) => {
        expect(findTarget(name)).toMatchObject({ container, configKey: key });
    });

    test("an unknown name is refused with the choices; the widget CDN has no image", () => {
        expect(() => findTarget("platform_api")).toThrow(/no service or container "platform_api" in the catalog; choose one of: platform-api, .*chatwoot-rails/);
        expect(() => findTarget("widget-cdn")).toThrow(/runs no container/);
        expect(() => findTarget("$(reboot)")).toThrow(/no service or container/);
    });
});

describe("parseChange: only immutable references", () => {
    test.each([`ghcr.io/visualkit/platform-api@${DIGEST}`, `ghcr.io/visualkit/platform-api:main@${DIGEST}`, "ghcr.io/visualkit/platform-api:1.4.2", "chatwoot/chatwoot:v4.8.0"])("accepts %s", (image) => {
        expect(parseChange(`platform-api=${image}`).image).toBe(image);
    });

    test.each([
        ["ghcr.io/visualkit/platform-api:main", /not immutable; deploy a digest \(ghcr.io\/visualkit\/platform-api@sha256:…/],
        ["ghcr.io/visualkit/platform-api:latest", /not immutable/],
        ["ghcr.io/visualkit/platform-api:1.4", /not immutable/],
        ["ghcr.io/visualkit/platform-api", /not immutable/],
        ["ghcr.io/visualkit/platform-api@sha256:abc", /not an image reference/],
        ["Ghcr.io/Visualkit/X:1.0.0 ;reboot", /not an image reference/],
    ])("refuses %s", (image, message) => {
        expect(() => parseChange(`platform-api=${image}`)).toThrow(message);
        expect(() => parseChange(`platform-api=${image}`)).toThrow(/^visualkit:imagePlatformApi: /);
    });

    test("needs service=image", () => {
        expect(() => parseChange("ghcr.io/visualkit/platform-api:1.0.0")).toThrow(/expected <service>=<image>/);
        expect(() => parseChange("=x:1.0.0")).toThrow(/expected <service>=<image>/);
    });
});

describe("the stack file edit keeps everything else as written", () => {
    const text = [
        "# dev: a comment on top",
        "config:",
        "  visualkit:domain: dev.visualkit.live",
        "  # dev may follow moving tags; prod may not.",
        '  visualkit:imagePlatformApi: "ghcr.io/visualkit/platform-api:main" # trailing comment',
        "  visualkit:sshAllowedCidrs:",
        "    - 203.0.113.0/24",
        "  visualkit:dbPassword:",
        "    secure: v1:abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789==",
        "  visualkit:caddyVersion: 2.10",
        "",
    ].join("\n");

    test("one line changes: the value; its quotes and comment stay", () => {
        const doc = loadStackFile(text);
        expect(currentImage(doc, "visualkit:imagePlatformApi")).toBe("ghcr.io/visualkit/platform-api:main");
        setImage(doc, "visualkit:imagePlatformApi", `ghcr.io/visualkit/platform-api@${DIGEST}`);
        const out = stackFileText(doc).split("\n");
        const before = text.split("\n");
        expect(out.length).toBe(before.length);
        const changed = out.map((l, i) => [l, before[i]]).filter(([a, b]) => a !== b);
        expect(changed).toEqual([[`  visualkit:imagePlatformApi: "ghcr.io/visualkit/platform-api@${DIGEST}" # trailing comment`, before[4]]]);
    });

    test("a key the file does not set is added under config", () => {
        const doc = loadStackFile(text);
        expect(currentImage(doc, "visualkit:imagePostgres")).toBeUndefined();
        setImage(doc, "visualkit:imagePostgres", "pgvector/pgvector:0.8.0-pg16");
        const out = stackFileText(doc);
        expect(out.startsWith(text.trimEnd())).toBe(true);
        expect(out.trimEnd().endsWith("  visualkit:imagePostgres: pgvector/pgvector:0.8.0-pg16")).toBe(true);
    });
});

describe("rollbackTarget reads the recorded history", () => {
    const KEY = "visualkit:imagePlatformApi";
    const e = (action: HistoryEntry["action"], from: string | undefined, to: string, key = KEY): HistoryEntry => ({ at: "2026-12-05T00:00:00Z", action, service: "platform-api", key, ...(from ? { from } : {}), to });
    const h = (...entries: HistoryEntry[]): History => ({ stack: "dev", entries });

    test("the last deploy's previous reference", () => {
        expect(rollbackTarget(h(e("deploy", "a:1.0.0", "a:1.1.0"), e("deploy", "a:1.1.0", "a:1.2.0")), KEY, "a:1.2.0").to).toBe("a:1.1.0");
    });

    test("two rollbacks go two releases back, not to and fro", () => {
        const history = h(e("deploy", "a:1.0.0", "a:1.1.0"), e("deploy", "a:1.1.0", "a:1.2.0"), e("rollback", "a:1.2.0", "a:1.1.0"));
        expect(rollbackTarget(history, KEY, "a:1.1.0").to).toBe("a:1.0.0");
    });

    test("other keys' entries do not count", () => {
        expect(rollbackTarget(h(e("deploy", "a:1.0.0", "a:1.1.0"), e("deploy", "v:1.0.0", "v:2.0.0", "visualkit:imageVkAgent")), KEY, "a:1.1.0").to).toBe("a:1.0.0");
    });

    test("refuses without history, when everything was rolled back, and when the file was changed by hand since", () => {
        expect(() => rollbackTarget(h(), KEY, "a:1.0.0")).toThrow(/no recorded deploy of visualkit:imagePlatformApi in the history of stack dev/);
        expect(() => rollbackTarget(h(e("deploy", "a:1.0.0", "a:1.1.0"), e("rollback", "a:1.1.0", "a:1.0.0")), KEY, "a:1.0.0")).toThrow(/no recorded deploy/);
        expect(() => rollbackTarget(h(e("deploy", "a:1.0.0", "a:1.1.0")), KEY, "a:9.9.9")).toThrow(/changed outside npm run deploy/);
        expect(() => rollbackTarget(h(e("deploy", undefined, "a:1.1.0")), KEY, "a:1.1.0")).toThrow(/was unset before/);
    });
});
