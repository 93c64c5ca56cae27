/** One problem with the stack config: the key as written in Pulumi.<stack>.yaml, what is wrong, and the fix. */
export interface ConfigIssue {
    readonly key: string;
    readonly problem: string;
    readonly fix: string;
}

/** Thrown once, before any resource is registered, with every problem found. */
export class ConfigError extends Error {
    readonly issues: readonly ConfigIssue[];
    constructor(stack: string, issues: readonly ConfigIssue[]) {
        const lines = issues.map((i) => `  - ${i.key}: ${i.problem}\n      fix: ${i.fix}`);
        super(`Invalid configuration for stack "${stack}" (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n${lines.join("\n")}`);
        this.name = "ConfigError";
        this.issues = issues;
    }
}
