import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from "yaml";
import type { ConfigIssue } from "./issues";

/*
 * Pulumi.<stack>.yaml read as the Pulumi CLI reads it, for everything that reads the file without the CLI (the
 * offline render, the policy pack, the program's own check of how a value was written).
 *
 * The CLI does not hand the program a scalar's source text. It decodes the file with gopkg.in/yaml.v3 into `any`
 * (pulumi/pulumi sdk/go/common/workspace/loaders.go:181, `marshaller.Unmarshal(b, &projectStackRaw)`), writes
 * that back as YAML and decodes it again into config.Value (loaders.go:219, 222), whose UnmarshalYAML
 * (sdk/go/common/resource/config/value.go:238-245) keeps a string as it is and turns every other scalar into its
 * JSON text (config/object.go:403-407, MarshalString: `case bool, int64, uint64, float64: c.MarshalJSON()`). So a
 * plain scalar is typed by yaml.v3's resolver (go-yaml/yaml v3.0.1 resolve.go:126-265), not by YAML 1.2's core
 * schema that the npm `yaml` package applies: `0123` is octal (83, ParseInt base 0 at resolve.go:197), `1_000` is
 * 1000, `0b101` is 5, `2.10` is 2.1, `2026-12-04` a timestamp printed as Go's time.Time (object.go:490-491), a
 * number beyond int64/uint64 a float (`1e+23`). Lists and maps reach the program as JSON with those types.
 * A duplicate key makes yaml.v3 refuse the whole file (decode.go:776) and a map key that is not a string makes the
 * CLI refuse it (sdk/go/common/workspace/project.go:533): both are listed as problems here.
 */

/** How a scalar was written, where its type is not a string (plain `2.10`, `0123`, `true`, `~`, `2026-12-04`). */
export interface WrittenScalar {
    /** The text in the file. */
    readonly source: string;
    /** What yaml.v3 reads it as. */
    readonly kind: "int" | "float" | "bool" | "null" | "timestamp";
    /** What the program is handed (for a scalar inside a list or map: its JSON text there). */
    readonly cli: string;
    readonly line: number;
}

export interface StackYaml {
    /** Full keys to the strings the CLI hands the program (lists and maps as JSON). */
    readonly values: Record<string, string>;
    /** Full keys whose value holds an encrypted (`secure:`) part; those parts read as `secureAs`. */
    readonly secretKeys: Set<string>;
    /**
     * Every scalar that is not a string in YAML, by path: `visualkit:caddyVersion`, `visualkit:platformApiEnv.V`,
     * `visualkit:emailMx[0]`. A string key written this way is what the CLI changes behind the user's back.
     */
    readonly written: Record<string, WrittenScalar>;
    /** What makes the CLI refuse the file, or lose a value: each with its line and the fix. */
    readonly problems: ConfigIssue[];
}

/** A decoded value in yaml.v3's model. Integers stay exact (uint64 included); floats are float64. */
type GoValue =
    | { readonly t: "str"; readonly v: string }
    | { readonly t: "int"; readonly v: bigint }
    | { readonly t: "float"; readonly v: number }
    | { readonly t: "bool"; readonly v: boolean }
    | { readonly t: "null" }
    | { readonly t: "time"; readonly v: string }
    | { readonly t: "secure"; readonly v: string }
    | { readonly t: "seq"; readonly v: readonly GoValue[] }
    | { readonly t: "map"; readonly v: ReadonlyMap<string, GoValue> };

const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;
const BOOLS: Record<string, boolean> = { true: true, True: true, TRUE: true, false: false, False: false, FALSE: false };
const NULLS = new Set(["", "~", "null", "Null", "NULL"]);
const SPECIAL_FLOATS: Record<string, number> = {
    ".nan": NaN, ".NaN": NaN, ".NAN": NaN,
    ".inf": Infinity, ".Inf": Infinity, ".INF": Infinity, "+.inf": Infinity, "+.Inf": Infinity, "+.INF": Infinity,
    "-.inf": -Infinity, "-.Inf": -Infinity, "-.INF": -Infinity,
};
// resolve.go:124, yamlStyleFloat.
const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;

/** Go's strconv.ParseInt(s, 0, 64) then ParseUint(s, 0, 64): sign, 0x/0o/0b prefixes, a bare leading 0 is octal. */
function goParseInt(s: string): bigint | undefined {
    let body = s;
    let neg = false;
    if (body.startsWith("+") || body.startsWith("-")) {
        neg = body[0] === "-";
        body = body.slice(1);
    }
    if (body === "") return undefined;
    let base = 10;
    if (body[0] === "0") {
        const p = body[1]?.toLowerCase();
        if (body.length >= 3 && (p === "b" || p === "o" || p === "x")) {
            base = p === "b" ? 2 : p === "o" ? 8 : 16;
            body = body.slice(2);
        } else {
            base = 8;
            body = body.slice(1);
        }
    }
    const digits = base === 16 ? /^[0-9a-fA-F]*$/ : base === 10 ? /^[0-9]*$/ : base === 8 ? /^[0-7]*$/ : /^[01]*$/;
    if (!digits.test(body)) return undefined;
    let n = 0n;
    for (const c of body) n = n * BigInt(base) + BigInt(parseInt(c, 16));
    if (neg) {
        // ParseUint takes no sign: a negative value must fit int64.
        return -n >= INT64_MIN ? -n : undefined;
    }
    return n <= UINT64_MAX ? n : undefined;
}

/** time.Parse of yaml.v3's allowed formats (resolve.go:294-326), printed as time.Time.String() prints it. */
function goTimestamp(s: string): string | undefined {
    const m = s.match(/^(\d{4})-(\d{1,2})-(\d{1,2})(?:([Tt ])(\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})?)?$/);
    if (!m) return undefined;
    const [, y, mo, d, sep, h, mi, sec, frac, zone] = m;
    const month = Number(mo);
    const day = Number(d);
    const year = Number(y);
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if (month < 1 || month > 12 || day < 1 || day > days[month - 1]) return undefined;
    // A zone goes with the T forms only; the space form has none (resolve.go:295-297).
    if (sep === " " && zone !== undefined) return undefined;
    if ((sep === "T" || sep === "t") && zone === undefined) return undefined;
    if (h !== undefined && (Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59)) return undefined;
    const two = (x: string | undefined) => (x ?? "0").padStart(2, "0");
    const fraction = frac ? frac.replace(/0+$/, "").replace(/\.$/, "") : "";
    const offset = zone === undefined || zone === "Z" ? "+0000 UTC" : `${zone.replace(":", "")} ${zone.replace(":", "")}`;
    return `${y}-${two(mo)}-${two(d)} ${two(h)}:${two(mi)}:${two(sec)}${fraction} ${offset}`;
}

/** yaml.v3's resolve() for an untagged plain scalar (resolve.go:126-265). */
export function resolvePlain(text: string): GoValue {
    if (text in BOOLS) return { t: "bool", v: BOOLS[text] };
    if (NULLS.has(text)) return { t: "null" };
    if (text in SPECIAL_FLOATS) return { t: "float", v: SPECIAL_FLOATS[text] };
    const hint = text[0];
    if (hint === ".") {
        // strconv.ParseFloat on the text as is (resolve.go:173-178).
        if (/^\.[0-9](_?[0-9])*([eE][-+]?[0-9](_?[0-9])*)?$/.test(text)) return { t: "float", v: Number(text.replace(/_/g, "")) };
        return { t: "str", v: text };
    }
    if (hint === undefined || !/[0-9+-]/.test(hint)) return { t: "str", v: text };
    const time = goTimestamp(text);
    if (time !== undefined) return { t: "time", v: time };
    const plain = text.replace(/_/g, "");
    const int = goParseInt(plain);
    if (int !== undefined) return { t: "int", v: int };
    if (YAML_STYLE_FLOAT.test(plain)) return { t: "float", v: Number(plain) };
    // yaml.v3's own 0b/-0b/0o/-0o branches (resolve.go:213-253) accept nothing ParseInt base 0 refused above.
    return { t: "str", v: text };
}

/**
 * The float's text after the CLI's round trip: yaml.v3 writes it with strconv 'g' (encode.go:398) and reads it back
 * (an integral one as an int), then encoding/json prints it; for a finite float64 both print the shortest
 * round-trip digits with an exponent from 1e21 on, which is what JavaScript's Number#toString prints.
 */
function floatText(v: number): string | undefined {
    if (!Number.isFinite(v)) return undefined;
    return String(v);
}

/** The JSON encoding/json gives the value (map keys sorted); undefined when it cannot (NaN, infinities). */
function toJson(v: GoValue, secureAs: string): string | undefined {
    switch (v.t) {
        case "str":
        case "time":
            return JSON.stringify(v.v);
        case "secure":
            return JSON.stringify(secureAs);
        case "int":
            return v.v.toString();
        case "float":
            return floatText(v.v);
        case "bool":
            return String(v.v);
        case "null":
            return "null";
        case "seq": {
            const items = v.v.map((x) => toJson(x, secureAs));
            return items.some((x) => x === undefined) ? undefined : `[${items.join(",")}]`;
        }
        case "map": {
            const keys = [...v.v.keys()].sort();
            const parts = keys.map((k) => {
                const j = toJson(v.v.get(k)!, secureAs);
                return j === undefined ? undefined : `${JSON.stringify(k)}:${j}`;
            });
            return parts.some((x) => x === undefined) ? undefined : `{${parts.join(",")}}`;
        }
    }
}

/** The string the program is handed for a top-level value (value.go:238-245, object.go:403-418). */
function cliText(v: GoValue, secureAs: string): string | undefined {
    if (v.t === "str" || v.t === "time") return v.v;
    if (v.t === "secure") return secureAs;
    if (v.t === "int") return v.v.toString();
    if (v.t === "float") return floatText(v.v);
    if (v.t === "bool") return String(v.v);
    return toJson(v, secureAs);
}

/**
 * Reads the stack file's text. `file` names it in problems (Pulumi.prod.yaml); `secureAs` stands in for each
 * encrypted value (the offline render has no key to decrypt them). Never throws: every problem is listed.
 */
export function readStackYaml(text: string, project: string, file: string, secureAs: string): StackYaml {
    const out: StackYaml = { values: {}, secretKeys: new Set(), written: {}, problems: [] };
    const parsed = configSection(text, file, out);
    if (!parsed) return out;
    const { configNode, lineOf } = parsed;
    const problem = (key: string, line: number, what: string, fix: string) => out.problems.push({ key, problem: `(${file} line ${line}) ${what}`, fix });
    const decode = decoder({ ...parsed, out, problem, file, secureAs });

    const seenTop = new Map<string, number>();
    for (const pair of configNode.items) {
        const keyText = isScalar(pair.key) ? String(pair.key.value) : undefined;
        const line = lineOf(pair.key as Node);
        if (keyText === undefined) {
            problem(`${file} config`, line, "has a key that is not a name", "write each key as namespace:name");
            continue;
        }
        // Keys without a namespace belong to the project (loaders.go:61-93).
        const key = keyText.includes(":") ? keyText : `${project}:${keyText}`;
        if (seenTop.has(key)) {
            problem(key, line, `is set twice (first at line ${seenTop.get(key)}); the Pulumi CLI refuses the whole file`, `remove one of the two ${keyText}: lines from ${file}`);
            continue;
        }
        seenTop.set(key, line);
        const node = pair.value as Node | null;
        const v: GoValue = node === null ? { t: "null" } : decode(node, key, key, 0);
        if (v.t === "null") {
            problem(key, line, "has no value (YAML reads it as null, which the program would be handed as the text null)", `give it a value, or remove the line to use the default`);
            continue;
        }
        const text = cliText(v, secureAs);
        if (text === undefined) {
            problem(key, line, "holds .nan or .inf, which the Pulumi CLI cannot pass to the program", "write a number, or quote the text");
            continue;
        }
        out.values[key] = text;
    }
    return out;
}

/** The file's config: map, with the line of each node; undefined (problems listed in `out`) when there is none to read. */
function configSection(text: string, file: string, out: StackYaml) {
    const lines = new LineCounter();
    let doc: Document.Parsed;
    try {
        // failsafe: every scalar stays its source text, typed below the way yaml.v3 types it.
        doc = parseDocument(text, { schema: "failsafe", uniqueKeys: false, lineCounter: lines, prettyErrors: false });
    } catch (e) {
        out.problems.push({ key: file, problem: `cannot be read as YAML: ${(e as Error).message}`, fix: `fix the file's YAML syntax` });
        return undefined;
    }
    const lineOf = (n: Node | null | undefined) => (n?.range ? lines.linePos(n.range[0]).line : 0);
    for (const e of doc.errors) {
        out.problems.push({ key: file, problem: `line ${lines.linePos(e.pos[0]).line}: ${e.message.split("\n")[0]}`, fix: `fix the file's YAML syntax; the Pulumi CLI refuses the whole file` });
    }
    if (doc.errors.length > 0) return undefined;
    const root = doc.contents;
    if (root === null || (isScalar(root) && NULLS.has(String(root.value)))) return undefined;
    if (!isMap(root)) {
        out.problems.push({ key: file, problem: "is not a YAML map with a config: section", fix: "start the file with config: and indent the keys under it" });
        return undefined;
    }
    const configNode = root.items.find((p) => isScalar(p.key) && p.key.value === "config")?.value as Node | null | undefined;
    if (configNode === undefined || configNode === null || (isScalar(configNode) && NULLS.has(String(configNode.value)))) return undefined;
    if (!isMap(configNode)) {
        out.problems.push({ key: `${file} config`, problem: "is not a map of key: value", fix: "indent each key under config: as key: value" });
        return undefined;
    }

    return { doc, configNode, lineOf };
}

type Parsed = NonNullable<ReturnType<typeof configSection>>;

/** One node of a value, decoded as yaml.v3 decodes it; `path` names it in problems and in `written`. */
function decoder({ doc, lineOf, out, problem, file, secureAs }: Parsed & { out: StackYaml; problem: (key: string, line: number, what: string, fix: string) => void; file: string; secureAs: string }) {
    const decode = (node: unknown, path: string, top: string, depth: number): GoValue => {
        if (depth > 64) {
            problem(top, lineOf(node as Node), "is nested too deeply", "flatten the value");
            return { t: "null" };
        }
        if (isAlias(node)) return decode(node.resolve(doc), path, top, depth + 1);
        if (isScalar(node)) {
            const source = String(node.value);
            const quoted = node.type !== "PLAIN";
            const tag = node.tag;
            let v: GoValue;
            if (tag === "tag:yaml.org,2002:str" || (quoted && tag === undefined)) v = { t: "str", v: source };
            else if (tag === undefined) v = resolvePlain(source);
            else {
                problem(top, lineOf(node), `${path} carries the YAML tag ${tag}, which this program does not read`, `remove the tag; quote the value if it is text`);
                v = { t: "str", v: source };
            }
            if (v.t !== "str") {
                const cli = v.t === "time" ? v.v : toJson(v, secureAs) ?? source;
                out.written[path] = { source, kind: v.t === "time" ? "timestamp" : (v.t as WrittenScalar["kind"]), cli, line: lineOf(node) };
            }
            return v;
        }
        if (isSeq(node)) return { t: "seq", v: node.items.map((x, i) => decode(x, `${path}[${i}]`, top, depth + 1)) };
        if (isMap(node)) {
            const m = new Map<string, GoValue>();
            const seen = new Map<string, number>();
            for (const p of node.items) {
                const keyNode = isAlias(p.key) ? p.key.resolve(doc) : p.key;
                if (!isScalar(keyNode)) {
                    problem(top, lineOf(p.key as Node), `${path} has a key that is not a name (a list or map as a key)`, "use a plain name as the key");
                    continue;
                }
                const k = String(keyNode.value);
                const line = lineOf(keyNode);
                if (seen.has(k)) {
                    problem(top, line, `${path} has the key "${k}" twice (first at line ${seen.get(k)}); the Pulumi CLI refuses the whole file`, `remove one of the two "${k}:" lines from ${file}`);
                    continue;
                }
                seen.set(k, line);
                if (k === "<<" && keyNode.type === "PLAIN") {
                    // yaml.v3 merges the mapping in (resolve.go's mergeTag); written out, nobody has to know how.
                    problem(top, line, `${path} uses a YAML merge key (<<)`, "write the merged keys out in full");
                    continue;
                }
                if (keyNode.type === "PLAIN" && keyNode.tag === undefined && resolvePlain(k).t !== "str") {
                    problem(top, line, `${path} has the key ${k}, which YAML reads as a ${resolvePlain(k).t === "int" ? "number" : "non-string"}; the Pulumi CLI refuses maps whose keys are not strings`, `quote it: "${k}":`);
                    continue;
                }
                const value = p.value as Node | null;
                // A map of the single key `secure` is an encrypted value (object.go:541, isSecureValue).
                if (k === "secure" && node.items.length === 1 && isScalar(value)) {
                    out.secretKeys.add(top);
                    return { t: "secure", v: String(value.value) };
                }
                m.set(k, value === null ? { t: "null" } : decode(value, `${path}.${k}`, top, depth + 1));
            }
            return { t: "map", v: m };
        }
        return { t: "null" };
    };
    return decode;
}

