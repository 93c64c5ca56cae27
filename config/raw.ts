import type { WrittenScalar } from "./stack-yaml";

/** Config exactly as the Pulumi runtime hands it over: full keys to raw strings (objects and arrays as JSON). */
export interface RawConfig {
    readonly project: string;
    readonly stack: string;
    readonly values: Readonly<Record<string, string>>;
    readonly secretKeys: ReadonlySet<string>;
    /** Environment variables that can stand in for provider credentials (HCLOUD_TOKEN, CLOUDFLARE_API_TOKEN). */
    readonly env: Readonly<Record<string, string | undefined>>;
    /** What the machine running the program can tell about paths and the ssh-agent, so parsing stays pure. */
    readonly local: LocalFacts;
    /**
     * How the stack file wrote the scalars that are not YAML strings (config/stack-yaml.ts), by path
     * (`visualkit:caddyVersion`, `visualkit:platformApiEnv.V`): a string key written `2.10` reaches the program as
     * "2.1", and only the file shows it. Absent when the file was not read (values set some other way).
     * @default undefined
     */
    readonly written?: Readonly<Record<string, WrittenScalar>>;
}

/** A local path as config validation sees it (config/index.ts reads the disk; tests pass fakes). */
export type FolderFacts =
    | { readonly kind: "missing"; readonly path: string }
    | { readonly kind: "file"; readonly path: string }
    /**
     * `broken`: links that point nowhere; `linkedFolders`: links to folders (the upload cannot copy them); `vcs`:
     * version-control folders inside (.git, .hg, .svn…: the folder is or holds a checkout); `keyLike`: files that look
     * like private keys or credentials (by name or a PEM private key block). The last two default to none.
     */
    | {
          readonly kind: "folder";
          readonly path: string;
          readonly files: number;
          readonly broken: readonly string[];
          readonly linkedFolders: readonly string[];
          readonly vcs?: readonly string[];
          readonly keyLike?: readonly string[];
      };

export interface LocalFacts {
    /** What is at `path` (relative paths are relative to the project folder, where `pulumi up` runs). */
    folder(path: string): FolderFacts;
    /**
     * The ssh-agent the SSH steps would log in through (SSH_AUTH_SOCK): set only while `pulumi up` really deploys,
     * never in a preview or the offline render, which open no SSH connection. `stale`: it names no socket.
     * @default undefined (not deploying: nothing checked)
     */
    readonly sshAgent?: { readonly state: "running" | "unset" | "stale"; readonly socket?: string };
    /**
     * Set when a real engine runs the program (`pulumi preview` or `pulumi up`), never in the offline render or the
     * tests: the committed stack files' placeholders (example keys, documentation ranges) render, and are refused
     * only when they would reach a real server (config/sections/placeholders.ts).
     * @default undefined (offline)
     */
    readonly engine?: "preview" | "up";
}
