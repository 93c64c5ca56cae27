import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Plan } from "./plan";

/**
 * What each image the plan references looks like (entry point, command, user, env), for `docker commit --change`
 * on the one root file system built from Debian packages. This is knowledge about the images, not about the
 * program: our own images are read from their Dockerfile under images/, upstream ones follow their published shape.
 */

/** The single-line instructions of a Dockerfile that shape the image's runtime (ENTRYPOINT, CMD, USER, ...). */
export function dockerfileChanges(text: string): string[] {
    const joined = text.replace(/\\\n/g, " ");
    return joined
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => /^(ENTRYPOINT|CMD|USER|ENV|WORKDIR|EXPOSE)\s/.test(l));
}

function repoAndTag(ref: string): { repo: string; tag: string } {
    const at = ref.indexOf("@");
    const base = at >= 0 ? ref.slice(0, at) : ref;
    const colon = base.lastIndexOf(":");
    return colon > base.lastIndexOf("/") ? { repo: base.slice(0, colon), tag: base.slice(colon + 1) } : { repo: base, tag: at >= 0 ? ref.slice(at + 1) : "latest" };
}

/** Ports the containers of an image listen on inside (their port bindings' container side). */
function containerPorts(plan: Plan, ref: string, refs: Map<string, string>): number[] {
    const ports = plan
        .ofType("docker:index/container:Container")
        .filter((c) => refs.get(String(c.rawInputs.image)) === ref)
        .flatMap((c) => ((c.rawInputs.ports as { internal: number; protocol?: string }[] | undefined) ?? []).filter((p) => (p.protocol ?? "tcp") === "tcp").map((p) => p.internal));
    return [...new Set(ports)].sort((a, b) => a - b);
}

export function imageChanges(root: string, plan: Plan, ref: string, refs: Map<string, string>): string[] {
    const { repo, tag } = repoAndTag(ref);
    const name = repo.split("/").pop() ?? repo;
    const version = `ENV VERSION=${tag}`;
    const dockerfile = join(root, "images", name, "Dockerfile");
    if (repo.startsWith("ghcr.io/visualkit/") && existsSync(dockerfile)) return dockerfileChanges(readFileSync(dockerfile, "utf8"));
    if (repo.startsWith("ghcr.io/visualkit/")) {
        const ports = containerPorts(plan, ref, refs);
        if (ports.length === 0) throw new Error(`${ref}: no container port to serve; the stand-in needs one`);
        return [`ENV VISUALKIT_SERVICE=${name}`, version, `CMD ${JSON.stringify(["visualkit-standin", "serve", ...ports.map(String)])}`];
    }
    if (/(^|\/)chatwoot$/.test(repo)) {
        return ["WORKDIR /app", `ENV VISUALKIT_SERVICE=chatwoot`, version, 'ENTRYPOINT ["docker/entrypoints/rails.sh"]', 'CMD ["bundle","exec","rails","s","-p","3000","-b","0.0.0.0"]'];
    }
    if (/(^|\/)(postgres|pgvector)$/.test(repo)) {
        return [
            "ENV PGDATA=/var/lib/postgresql/data",
            "ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            'ENTRYPOINT ["visualkit-entrypoint"]',
            'CMD ["postgres"]',
        ];
    }
    if (/(^|\/)redis$/.test(repo)) return ["WORKDIR /data", 'ENTRYPOINT ["visualkit-entrypoint"]', 'CMD ["redis-server"]'];
    throw new Error(`${ref}: the host tier has no stand-in for this image; add its shape to test/host/lib/images.ts`);
}
