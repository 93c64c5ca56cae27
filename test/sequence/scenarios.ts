/**
 * The operation scenarios of issue 23 as plain data, so every tier replays the same list: the fast tier plays them
 * against the engine/provider model (./engine.ts, test/sequence/sequence.test.ts); a real-host phase can play the
 * same `ups` against a real Docker engine and sshd (see docs/operation.md "Scenarios"). Pure: no Pulumi import.
 *
 * A scenario is a sequence of `pulumi up`s of one stack. Each up names its config overrides on top of the stack file
 * (short keys, as `pulumi config set` would write them), the host conditions it meets (an image whose containers
 * never turn healthy, a one-shot job that fails) and what must hold.
 */

export type StackName = "dev" | "prod";

export interface ScenarioUp {
    readonly label: string;
    /** Config overrides for this up (short keys; objects as the stack file holds them). */
    readonly set?: Readonly<Record<string, unknown>>;
    /** Keys of `set` that are secrets. */
    readonly secrets?: readonly string[];
    /** Image references whose containers never turn healthy on this host. */
    readonly brokenImages?: readonly string[];
    /** Image references whose one-shot containers (Chatwoot's db:chatwoot_prepare) exit 1. */
    readonly failingJobs?: readonly string[];
    /** Whether `pulumi up` succeeds. */
    readonly expect: "ok" | "fail";
    /** The up must change nothing at all (every step `same`). */
    readonly noChanges?: boolean;
    /** Docker names of the containers this up may replace, create or delete (undefined: not checked). */
    readonly touches?: readonly string[];
    /** The up's error must contain this text. */
    readonly errorIncludes?: string;
    /**
     * The same failure as the real host words it (test/host/phases/sequence.ts), where it differs from the model's:
     * the step that fails and the container it names.
     */
    readonly hostErrorIncludes?: string;
    /**
     * `visualkit:adopt` for this up, as `npm run adopt` writes it for a zone and account that hold every Cloudflare
     * object already (a takeover): `initial` before the first up (nothing in the state), `rewritten` when adopt ran
     * again after the previous up (it leaves out what the state holds).
     */
    readonly adopt?: "initial" | "rewritten";
}

export interface Scenario {
    readonly id: string;
    readonly title: string;
    readonly stack: StackName;
    /** Config every up of the scenario starts from (e.g. a widget folder), before each up's own `set`. */
    readonly base?: Readonly<Record<string, unknown>>;
    /** The first up deploys from empty state; the rest follow. */
    readonly ups: readonly ScenarioUp[];
    /**
     * Groups of Docker names of which at least one copy must be serving after every step of every up after the
     * first (docs/deploys.md's standby promise); a group of one is a container that must never stop.
     */
    readonly keepServing?: readonly (readonly string[])[];
    /** Whether the scenario does anything on the host (a real-host phase replays only these). */
    readonly touchesHost: boolean;
}

/** The copies behind Caddy that the standby promise covers. */
export const SERVING_GROUPS: readonly (readonly string[])[] = [
    ["platform-api", "platform-api-standby"],
    ["vk-agent", "vk-agent-standby"],
    ["chatwoot-rails", "chatwoot-rails-standby"],
];

/** Each stack's image references in its stack file (kept here as data so a host phase needs no config reader). */
export const STACK_IMAGES: Record<StackName, Record<"imagePlatformApi" | "imageVkAgent" | "imageJanus" | "imageChatwoot", string>> = {
    dev: {
        imagePlatformApi: "ghcr.io/visualkit/platform-api:main",
        imageVkAgent: "ghcr.io/visualkit/vk-agent:main",
        imageJanus: "ghcr.io/visualkit/janus:1.1.2-debian12",
        imageChatwoot: "chatwoot/chatwoot:v4.7.0",
    },
    prod: {
        imagePlatformApi: "ghcr.io/visualkit/platform-api:1.0.0",
        imageVkAgent: "ghcr.io/visualkit/vk-agent:1.0.0",
        imageJanus: "ghcr.io/visualkit/janus:1.1.2-debian12",
        imageChatwoot: "chatwoot/chatwoot:v4.7.0",
    },
};

const bumped = (ref: string) => ref.replace(/:[^:@/]+$/, ":2.0.0-next");

/** Which containers (Docker names) each image key runs. */
const CONTAINERS_OF: Record<keyof (typeof STACK_IMAGES)["dev"], readonly string[]> = {
    imagePlatformApi: ["platform-api", "platform-api-standby"],
    imageVkAgent: ["vk-agent", "vk-agent-standby"],
    imageJanus: ["janus-gateway"],
    imageChatwoot: ["chatwoot-rails", "chatwoot-rails-standby", "chatwoot-sidekiq", "chatwoot-prepare"],
};

function imageUpdates(stack: StackName): Scenario[] {
    return (Object.keys(CONTAINERS_OF) as (keyof typeof CONTAINERS_OF)[]).map((key) => ({
        id: `${stack}-image-update-${key}`,
        title: `${stack}: a new ${key} image replaces exactly its containers, standby first, and loses no serving copy`,
        stack,
        ups: [
            { label: "first deploy", expect: "ok" },
            { label: `${key} → ${bumped(STACK_IMAGES[stack][key])}`, set: { [key]: bumped(STACK_IMAGES[stack][key]) }, expect: "ok", touches: CONTAINERS_OF[key] },
            { label: "the next up changes nothing", set: { [key]: bumped(STACK_IMAGES[stack][key]) }, expect: "ok", noChanges: true },
        ],
        keepServing: SERVING_GROUPS,
        touchesHost: true,
    }));
}

/** A test key pair's private half is never needed: any distinct text stands for a new key in `connection`. */
const NEW_PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nrotated-key-stand-in\n-----END OPENSSH PRIVATE KEY-----\n";
const NEW_PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFYsGmHbHJ4kJXyo9vJbfd0jL8JKMjvM1y3QJqs3dnAs rotated-deploy";
/** In `sshPublicKeys`: the keys the stack trusts before this up (each player puts in the ones it deployed with). */
export const CURRENT_KEYS = "<current keys>";

/** `set` with CURRENT_KEYS replaced by `current`. */
export function withCurrentKeys(set: Readonly<Record<string, unknown>>, current: readonly string[]): Record<string, unknown> {
    const keys = set.sshPublicKeys;
    return Array.isArray(keys) ? { ...set, sshPublicKeys: keys.flatMap((k) => (k === CURRENT_KEYS ? current : [k])) } : { ...set };
}

export function scenarios(): Scenario[] {
    return [
        ...(["dev", "prod"] as const).map((stack) => ({
            id: `${stack}-second-up`,
            title: `${stack}: the second up after the first changes nothing`,
            stack,
            ups: [
                { label: "first deploy", expect: "ok" as const },
                { label: "second up, same config", expect: "ok" as const, noChanges: true },
            ],
            touchesHost: true,
        })),
        ...imageUpdates("dev"),
        ...imageUpdates("prod"),
        {
            id: "dev-never-healthy-then-revert",
            title: "dev: a platform-api release that never turns healthy stops at the standby; the revert and the up after it succeed",
            stack: "dev",
            ups: [
                { label: "first deploy", expect: "ok" },
                {
                    label: "broken release",
                    set: { imagePlatformApi: bumped(STACK_IMAGES.dev.imagePlatformApi) },
                    brokenImages: [bumped(STACK_IMAGES.dev.imagePlatformApi)],
                    expect: "fail",
                    errorIncludes: "platform-api-standby did not pass its health check",
                    // The gate of the new standby fails on the host; the stand-in that never turns healthy exits at start.
                    hostErrorIncludes: "create visualkit-dev-platform-api-api-standby-ready",
                    touches: ["platform-api-standby"],
                },
                { label: "revert to the previous image", brokenImages: [bumped(STACK_IMAGES.dev.imagePlatformApi)], expect: "ok", touches: ["platform-api-standby"] },
                { label: "the next up changes nothing", expect: "ok", noChanges: true },
            ],
            keepServing: SERVING_GROUPS,
            touchesHost: true,
        },
        {
            id: "prod-chatwoot-failing-migration",
            title: "prod: a Chatwoot image whose migration fails leaves rails, its standby and sidekiq serving the old version; the revert succeeds",
            stack: "prod",
            ups: [
                { label: "first deploy", expect: "ok" },
                {
                    label: "Chatwoot bump, migration fails",
                    set: { imageChatwoot: bumped(STACK_IMAGES.prod.imageChatwoot) },
                    failingJobs: [bumped(STACK_IMAGES.prod.imageChatwoot)],
                    expect: "fail",
                    errorIncludes: "chatwoot-prepare exited with code 1",
                    touches: ["chatwoot-prepare"],
                },
                { label: "revert to the previous image", expect: "ok", touches: ["chatwoot-prepare"] },
                { label: "the next up changes nothing", expect: "ok", noChanges: true },
            ],
            keepServing: [...SERVING_GROUPS, ["chatwoot-sidekiq"]],
            touchesHost: true,
        },
        {
            id: "dev-ssh-key-rotation",
            title: "dev: a new deploy key, first trusted beside the current ones, then used (sshPrivateKey) alone: every remote step re-runs with the same inputs and nothing on the host is replaced",
            stack: "dev",
            base: { widgetCdnSourceDir: "<widget folder>" },
            ups: [
                { label: "first deploy", expect: "ok" },
                // sshd refuses a login with a key it does not trust yet, and every remote step of the rotating up logs in
                // with the new key (its `connection`): the host must trust it first. Shown on a real sshd by the
                // real-host tier (test/host/phases/sequence.ts), which the model cannot (it has no logins).
                { label: "trust the new key beside the current ones", set: { sshPublicKeys: [CURRENT_KEYS, NEW_PUBLIC_KEY] }, expect: "ok", touches: [] },
                {
                    label: "rotate the key",
                    set: { sshPrivateKey: NEW_PRIVATE_KEY, sshPublicKeys: [NEW_PUBLIC_KEY] },
                    secrets: ["sshPrivateKey"],
                    expect: "ok",
                    touches: [],
                },
            ],
            keepServing: SERVING_GROUPS,
            touchesHost: true,
        },
        {
            id: "prod-rename-adopted-pages-hostname",
            title: "prod: renaming an adopted Pages hostname replaces its domain once the adopt map is emptied; a stale map is refused by the engine",
            stack: "prod",
            ups: [
                { label: "takeover: first up imports the adopted objects", adopt: "initial", expect: "ok" },
                {
                    label: "rename app → dashboard with the map still there",
                    adopt: "initial",
                    set: { hostnames: { app: "dashboard" } },
                    expect: "fail",
                    errorIncludes: "previously-imported resources that still specify an ID may not be replaced",
                },
                { label: "rename app → dashboard after npm run adopt rewrote the map from the state", adopt: "rewritten", set: { hostnames: { app: "dashboard" } }, expect: "ok" },
            ],
            touchesHost: false,
        },
    ];
}
