import { KEYS, NAMESPACE, PROVIDER_SECRETS } from "../config/keys";

/** The config table of docs/configuration.md, generated from config/keys.ts (test/config/keys.test.ts keeps the copy equal). */
export function configTable(): string {
    const cell = (s: string) => s.replace(/\|/g, "\\|");
    const def = (d: unknown) => (d === undefined ? "" : Array.isArray(d) ? (d.length ? `\`${JSON.stringify(d)}\`` : "`[]`") : d === "" ? '`""` (unset)' : `\`${String(d)}\``);
    const rows = KEYS.map((k) => {
        const kind = k.secret ? `${k.type}, secret` : k.type;
        const required = k.requiredWith ? `with \`${k.requiredWith}\`${k.requiredWithPrefix ? ` = ${k.requiredWithPrefix}…` : ""}` : k.optional || k.default !== undefined ? "no" : "yes";
        return `| \`${NAMESPACE}:${k.key}\` | ${kind} | ${required} | ${def(k.default)} | ${cell(k.description)} |`;
    });
    const providers = PROVIDER_SECRETS.map((p) => `| \`${p.key}\` | string, secret | yes (or \`${p.env}\`) | | ${cell(p.description)} |`);
    return ["| Key | Type | Required | Default | What it does |", "|---|---|---|---|---|", ...rows, ...providers].join("\n");
}

if (require.main === module || process.argv[1]?.endsWith("config-table.ts")) {
    console.log(configTable());
}
