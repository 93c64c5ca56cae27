import { PROVIDER_SECRETS } from "../keys";
import type { ConfigReader } from "../reader";

/** Provider credentials: only reported, the providers read them (from the stack file or their environment variable). */
export function checkProviders(r: ConfigReader): void {
    for (const p of PROVIDER_SECRETS) {
        const v = r.raw.values[p.key];
        if ((v === undefined || v === "") && !r.raw.env[p.env]) {
            r.report({ key: p.key, problem: `is not set (${p.description})`, fix: `${r.setCmd(p.key, "<token>", true)}  (or export ${p.env})` });
        } else if (v !== undefined && v !== "" && !r.raw.secretKeys.has(p.key)) {
            r.report({ key: p.key, problem: "is stored in plain text in the stack file", fix: r.setCmd(p.key, "<token>", true) });
        }
    }
}
