import type { Catalog } from "../../catalog/types";
import { renderArchitecture, renderMermaid } from "../../render/architecture";
import { parsedStack, runProgram, type RunOptions } from "../helpers/program";
import { THREE_HOSTS } from "../helpers/multihost";

const catalogOf = (stack: "dev" | "prod", set: RunOptions["set"] = {}): Catalog => parsedStack(stack, { set }).catalog;

const KEYWORDS = new Set(["end", "subgraph", "graph", "flowchart", "style", "class", "classDef", "click", "linkStyle", "direction", "default"]);
const ID = /^[A-Za-z][A-Za-z0-9_]*$/;
const LABEL = String.raw`"[^"|]*"`;
const NODE = new RegExp(String.raw`^(\w+)(?:\[${LABEL}\]|\(\[${LABEL}\]\)|\[\(${LABEL}\)\])$`);
const SUBGRAPH = new RegExp(String.raw`^subgraph (\w+)\[${LABEL}\]$`);
const EDGE = new RegExp(String.raw`^(\w+) (?:-->|<-->|-\.->|<-\.->)(?:\|${LABEL}\|)? (\w+)$`);

/**
 * A structural check of the Mermaid subset the renderer emits (mermaid-cli needs a browser download, so it cannot
 * run here): every line is a node, subgraph, `end` or edge; subgraphs balance; ids are valid, not keywords, defined
 * once; every edge joins defined ids; labels hold no raw quote, pipe or HTML other than <br/>, `#` only as an entity.
 */
function mermaidProblems(src: string): string[] {
    const problems: string[] = [];
    const lines = src.trimEnd().split("\n");
    if (lines[0] !== "flowchart LR") problems.push(`first line is ${JSON.stringify(lines[0])}`);
    const defined = new Set<string>();
    const edges: [string, string][] = [];
    let depth = 0;
    const define = (id: string) => {
        if (!ID.test(id) || KEYWORDS.has(id)) problems.push(`bad id ${id}`);
        if (defined.has(id)) problems.push(`${id} defined twice`);
        defined.add(id);
    };
    for (const raw of lines.slice(1)) {
        const line = raw.trim();
        let m: RegExpMatchArray | null;
        if (line === "end") {
            if (--depth < 0) problems.push("end without subgraph");
        } else if ((m = line.match(SUBGRAPH))) {
            depth++;
            define(m[1]);
        } else if ((m = line.match(NODE))) {
            define(m[1]);
        } else if ((m = line.match(EDGE))) {
            edges.push([m[1], m[2]]);
        } else {
            problems.push(`not a node, subgraph or edge: ${line}`);
        }
        for (const l of line.match(/"[^"]*"/g) ?? []) {
            if (/<(?!br\/>)/.test(l)) problems.push(`HTML in label ${l}`);
            if (/#(?!35;|quot;)/.test(l)) problems.push(`bare # in label ${l}`);
        }
    }
    if (depth !== 0) problems.push(`${depth} subgraph(s) not closed`);
    for (const [a, b] of edges) for (const id of [a, b]) if (!defined.has(id)) problems.push(`edge to undefined ${id}`);
    return problems;
}

const mermaidBlock = (md: string) => md.match(/```mermaid\n([\s\S]*?)```/)?.[1] ?? "";

describe.each(["dev", "prod"] as const)("architecture picture of %s", (stack) => {
    const catalog = catalogOf(stack);
    const md = renderArchitecture(catalog, { stack });
    const diagram = mermaidBlock(md);

    test("is one Mermaid block the structural check accepts", () => {
        expect(md.match(/```mermaid/g)).toHaveLength(1);
        expect(mermaidProblems(diagram)).toEqual([]);
    });

    test("the diagram shows every catalog hostname, container and port", () => {
        const hostnames = [...catalog.services.flatMap((s) => s.routes.map((r) => r.hostname)), ...catalog.pages.map((p) => p.hostname), ...catalog.redirects.map((r) => r.hostname)];
        expect(hostnames.length).toBeGreaterThan(7);
        for (const h of hostnames) expect({ h, shown: diagram.includes(`${h}<br/>`) }).toEqual({ h, shown: true });
        for (const s of catalog.services) {
            for (const c of s.containers) expect(diagram).toContain(`["${c.name}`);
            if (s.containers.length === 0 && s.ports.length > 0) expect(diagram).toContain(`["${s.id} (host service)`);
            for (const n of s.names ?? []) expect(diagram).toContain(`${n.hostname}<br/>`);
            for (const p of s.ports) {
                const port = p.port === p.endPort ? `${p.port}` : `${p.port}-${p.endPort}`;
                expect({ service: s.id, port: p.id, shown: diagram.includes(`${p.id} `) && diagram.includes(`:${port}/${p.protocol}`) }).toEqual({ service: s.id, port: p.id, shown: true });
            }
        }
        for (const site of catalog.pages) expect(diagram).toContain(`Pages ${site.project}`);
    });

    test("every VPS hostname goes Cloudflare → Caddy → the container listening on its upstream port", () => {
        expect(diagram).toContain(`caddy_main -->|"https://${catalog.services[0].routes[0].hostname} → 127.0.0.1:3001"| c_platform_api`);
        expect(diagram).toContain(`caddy_main -->|"wss://janus.${catalog.domain} → 172.18.0.1:8188"| c_janus_gateway`);
        expect(diagram).toContain(`caddy_main -->|"https://support.${catalog.domain} → 127.0.0.1:3003"| c_chatwoot_rails`);
        for (const r of catalog.services.flatMap((s) => s.routes)) expect(diagram).toContain(`dns_${r.id} --> caddy_main`);
    });

    test("the media path: Browser ⇄ Janus RTP range (public) ⇄ vk-agent RTP (internal) ⇄ Gemini", () => {
        expect(diagram).toContain(`browser <-.->|"WebRTC media · UDP 10000-60000 (public)"| c_janus_gateway`);
        expect(diagram).toContain(`c_janus_gateway <-.->|"RTP · 172.18.0.2:5005/udp (internal)"| c_vk_agent`);
        expect(diagram).toMatch(/c_vk_agent <-->\|"[^"]*"\| gemini/);
    });

    test("the tables list every hostname URL and every port with the config key that sets it", () => {
        for (const s of catalog.services) {
            for (const r of s.routes) expect(md).toMatch(new RegExp(`\\| \`(https|wss)://${r.hostname.replace(/\./g, "\\.")}\` \\|`));
            for (const p of s.ports) expect(md).toContain(`| ${s.host} | ${s.id} | ${p.id} |`);
        }
        expect(md).toContain("`visualkit:janusRtpPorts`");
    });
});

describe("the picture follows the config", () => {
    test("renaming a hostname in the stack config renames it in the published architecture.md", async () => {
        const before = (await runProgram("prod")).files.get("architecture.md") ?? "";
        const after = (await runProgram("prod", { set: { hostnames: { api: "backend" } } })).files.get("architecture.md") ?? "";
        const apiHost = /(?<![\w-])api\.visualkit\.live/;
        expect(before).toMatch(apiHost);
        expect(after).not.toMatch(apiHost);
        expect(mermaidBlock(after)).toContain(`caddy_main -->|"https://backend.visualkit.live → 127.0.0.1:3001"| c_platform_api`);
        expect(mermaidProblems(mermaidBlock(after))).toEqual([]);
    });

    test("the www redirect is drawn only for the stack that owns the zone (prod), as in the outputs", async () => {
        const dev = (await runProgram("dev")).files.get("architecture.md") ?? "";
        const prod = (await runProgram("prod")).files.get("architecture.md") ?? "";
        expect(prod).toContain(`redirect_www["www.visualkit.live<br/>redirect 301 → https://visualkit.live"]`);
        expect(prod).toContain("redirect_www -.-> pages_landing");
        expect(dev).not.toMatch(/redirect_www|www\.dev\.visualkit\.live/);
        expect(mermaidProblems(mermaidBlock(dev))).toEqual([]);
    });

    test("another RTP range or port moves the media path; no Pages means no Pages nodes", () => {
        const diagram = renderMermaid(catalogOf("dev", { janusRtpPorts: "20000-20999", ports: { vkAgentRtp: 6006 }, pagesEnabled: false }));
        expect(diagram).toContain("UDP 20000-20999 (public)");
        expect(diagram).toContain("172.18.0.2:6006/udp (internal)");
        expect(diagram).not.toMatch(/pages_/);
        expect(mermaidProblems(diagram)).toEqual([]);
    });

    test("a catalog without Janus draws no media path and stays valid; labels are entity-coded", () => {
        const base = catalogOf("prod");
        const catalog: Catalog = {
            ...base,
            services: base.services.filter((s) => s.id !== "janus").map((s) => (s.id === "chatwoot" ? { ...s, containers: [{ ...s.containers[0], name: 'rails "#1"' }] } : s)),
        };
        const diagram = renderMermaid(catalog);
        expect(diagram).not.toContain("janus");
        expect(diagram).not.toContain("<-.->");
        expect(diagram).toContain("rails #quot;#35;1#quot;");
        expect(mermaidProblems(diagram)).toEqual([]);
    });
});

describe("the structural check can fail", () => {
    test.each([
        ["an unclosed subgraph", 'flowchart LR\n  subgraph a["A"]\n    b["B"]', /not closed/],
        ["a keyword as id", 'flowchart LR\n  end["E"]', /not a node|bad id/],
        ["an edge to nothing", 'flowchart LR\n  a["A"]\n  a --> b', /edge to undefined b/],
        ["a raw quote", 'flowchart LR\n  a["say "hi""]', /not a node/],
        ["a bare #", 'flowchart LR\n  a["#1"]', /bare #/],
        ["another diagram type", 'graph TD\n  a["A"]', /first line/],
    ])("%s", (_name, src, problem) => {
        expect(mermaidProblems(src).join("\n")).toMatch(problem);
    });
});

describe("architecture picture with three hosts (app host + two media cells, test/helpers/multihost.ts)", () => {
    const catalog = catalogOf("dev", THREE_HOSTS as unknown as RunOptions["set"]);
    const diagram = renderMermaid(catalog);

    test("one subgraph per host; each cell's Janus and vk-agent are nodes of their own (same Docker names on two hosts)", () => {
        expect(mermaidProblems(diagram)).toEqual([]);
        for (const host of ["main", "media_a", "media_b"]) expect(diagram).toContain(`subgraph host_${host}[`);
        for (const cell of ["a", "b"]) {
            expect(diagram).toContain(`c_janus_gateway_${cell}[`);
            expect(diagram).toContain(`c_vk_agent_${cell}[`);
        }
    });

    test("a media path per cell with its own RTP range; TURN drawn to the Janus of its own host only", () => {
        expect(diagram).toMatch(/browser <-\.->\|"WebRTC media · UDP 20000-29999 \(public\)"\| c_janus_gateway_a/);
        expect(diagram).toMatch(/browser <-\.->\|"WebRTC media · UDP 30000-39999 \(public\)"\| c_janus_gateway_b/);
        expect(diagram).toMatch(/s_turn <-\.->\|"[^"]*→ 20000-29999"\| c_janus_gateway_a/);
        expect(diagram).not.toMatch(/s_turn <-\.->\|[^|]*\| c_janus_gateway_b/);
    });
});
