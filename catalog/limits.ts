import prices from "./prices.json";

/**
 * What each container may use of its host, so one leaking process (a sidekiq growing without bound, a fork loop,
 * a Janus flooded with handles) is stopped inside its own cgroup — the kernel OOM-kills it there and Docker restarts
 * it — instead of taking Postgres, Janus and sshd down with it. Sized as shares of the server type's RAM and vCPUs
 * (catalog/prices.json), so a bigger server gives every container more without a config change.
 *
 * The memory caps are ceilings, not reservations: together they exceed the RAM (standby copies and the preparation job
 * run only around a deployment). The rule is that no single container can take more than MAX_MEMORY_SHARE of the
 * RAM, so at least the rest is left for everything else; test/catalog/limits.test.ts checks it for every server type.
 * Documented in docs/security-ssh.md ("Containers").
 */

/** A container's share of its host. */
export interface ResourceShare {
    /** Fraction of the server's RAM the container may use (memory and memory+swap). */
    readonly memory: number;
    /** Fraction of the server's vCPUs (Docker `--cpus`, a CFS quota: a busy loop cannot starve the rest). */
    readonly cpu: number;
    /** Most processes and threads at once (cgroup pids.max): a fork bomb or thread leak stops there. */
    readonly pids: number;
    /** Why this size. */
    readonly why: string;
    /**
     * Capabilities of DROPPED_CAPABILITIES this container keeps, each with its reason in `why` (e.g.
     * CAP_NET_BIND_SERVICE for a TURN server on 443). @default [] (drops them all)
     */
    readonly keeps?: readonly (typeof DROPPED_CAPABILITIES)[number][];
}

/** No container may hold more than this fraction of the RAM. */
export const MAX_MEMORY_SHARE = 0.3;

/** By catalog container name; a standby copy (`<name>-standby`) has its primary's share. */
export const CONTAINER_SHARES: Readonly<Record<string, ResourceShare>> = {
    "platform-api": { memory: 0.15, cpu: 0.5, pids: 512, why: "Node.js API: one process, libuv and worker threads" },
    "platform-ws": { memory: 0.1, cpu: 0.25, pids: 256, why: "Node.js WebSocket server, when it runs apart" },
    "vk-agent": { memory: 0.15, cpu: 0.5, pids: 512, why: "Python voice bridge: audio buffers per call, one thread per stream" },
    "janus-gateway": { memory: 0.25, cpu: 0.75, pids: 4096, why: "media threads per session and handle (100 joins measured ~360 threads); the RTP relay is CPU-bound" },
    "chatwoot-rails": { memory: 0.25, cpu: 0.5, pids: 512, why: "Puma and its threads: with sidekiq the largest Ruby processes" },
    "chatwoot-sidekiq": { memory: 0.25, cpu: 0.5, pids: 512, why: "background jobs: the one most likely to leak, stopped here before it reaches Postgres" },
    "chatwoot-prepare": { memory: 0.25, cpu: 0.5, pids: 512, why: "one-shot db:chatwoot_prepare before rails starts, the size of rails" },
    "chatwoot-postgres": { memory: 0.25, cpu: 0.5, pids: 512, why: "a process per connection (max_connections 100) plus shared buffers" },
    "chatwoot-redis": { memory: 0.1, cpu: 0.25, pids: 128, why: "single-threaded Redis with a few I/O threads; Chatwoot's queues are small" },
};

/**
 * Capabilities every container drops (Docker's default set minus what the images need): raw sockets (ARP/ICMP
 * spoofing on the bridge), device nodes, audit writes, chroot, file capabilities, changing its own capability bounding
 * set, and binding ports below 1024 (every catalog port is above it; a test checks). Kept: CHOWN, DAC_OVERRIDE,
 * FOWNER, FSETID, SETUID, SETGID, KILL — the Postgres and Redis entrypoints chown their data and drop to their user.
 * Written as Docker stores them (with CAP_, which the daemon adds since 20.10): the provider reads them back into the
 * state, and a different spelling would replace every container on each `pulumi up` (the input is ForceNew).
 */
export const DROPPED_CAPABILITIES = ["CAP_AUDIT_WRITE", "CAP_MKNOD", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_SYS_CHROOT"] as const;

/** Docker security options of every container: no process gains privileges through setuid binaries or file capabilities. */
export const SECURITY_OPTS = ["no-new-privileges:true"] as const;

/** A server type's size, from catalog/prices.json. */
export interface HostCapacity {
    readonly ramGb: number;
    readonly vcpu: number;
}

export function hostCapacity(serverType: string): HostCapacity {
    const t = (prices.serverTypes as Record<string, { ramGb: number; vcpu: number } | undefined>)[serverType];
    if (!t) throw new Error(`server type ${serverType} is not in catalog/prices.json`);
    return { ramGb: t.ramGb, vcpu: t.vcpu };
}

/** What Docker enforces for one container. */
export interface ContainerLimits {
    /** Capabilities removed from Docker's default set. */
    readonly drops: readonly string[];
    /** MB (the provider's unit); memory+swap is the same, so the cap cannot spill into swap. */
    readonly memoryMb: number;
    /** Docker `--cpus`, in the provider's read-back spelling. */
    readonly cpus: string;
    readonly pids: number;
}

/**
 * The provider stores `cpus` as it reads NanoCPUs back: "1.0" for a whole number, otherwise trailing zeros trimmed
 * ("0.5") (kreuzwerker/terraform-provider-docker v4.5.0 internal/provider/helpers.go lines 133-149). Any other spelling
 * would differ from the state on every refresh and replace the container (cpus is ForceNew).
 */
export function cpusString(cpus: number): string {
    const milli = Math.max(1, Math.round(cpus * 1000)) / 1000;
    return Number.isInteger(milli) ? milli.toFixed(1) : String(milli);
}

export function containerLimits(containerName: string, host: HostCapacity): ContainerLimits {
    const share = CONTAINER_SHARES[containerName.replace(/-standby$/, "")];
    if (!share) throw new Error(`catalog/limits.ts: container ${containerName} has no resource share; add it to CONTAINER_SHARES`);
    const drops = DROPPED_CAPABILITIES.filter((c) => !(share.keeps ?? []).includes(c));
    return { memoryMb: Math.floor(host.ramGb * 1024 * share.memory), cpus: cpusString(host.vcpu * share.cpu), pids: share.pids, drops };
}
