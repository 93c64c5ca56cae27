import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { CONTAINER_LOGS, STOP_GRACE_SECONDS } from "../catalog/defaults";
import { containerLimits, SECURITY_OPTS, type HostCapacity } from "../catalog/limits";
import { portOf } from "../catalog/derived";
import type { ContainerSpec, ServiceSpec } from "../catalog/types";
import { ENV_NAME } from "../config/validators";
import { healthcheckTest } from "./healthcheck";
import { goSeconds } from "./go-duration";
import { readinessScript } from "./readiness";
import { REMOTE_COMMAND_DEFAULTS } from "./ssh";

/**
 * What every long-running container of the platform shares, so no service can forget one of them: restart policy,
 * bounded logs, a health check the deployment waits for, and ports published only where the catalog says.
 */

/** The reference's timing (platform-api's compose file): a check every 30 s, 10 s timeout, unhealthy after 3 failures. */
export const HEALTH_TIMING = { intervalSeconds: 30, timeoutSeconds: 10, retries: 3 } as const;
/** Restarts after crashes and reboots, but a container an operator stopped stays stopped. */
export const RESTART_POLICY = "unless-stopped";
/** Published ports listen here only: Docker's published ports bypass the host firewall, Caddy is the public entry. */
export const PUBLISH_ADDRESS = "127.0.0.1";

/** A host's Docker engine: the provider that reaches it and the identity of the machine behind it. */
export interface Engine {
    readonly provider: docker.Provider;
    /** The host's instance (lib/host.ts HostHandle.instance): changes only when the machine is replaced. */
    readonly instance: pulumi.Output<string>;
    /** The server type's RAM and vCPUs: each container's limits are shares of them (catalog/limits.ts). */
    readonly capacity: HostCapacity;
    /** SSH to the host, for what the Docker provider cannot set (a container's pids limit). */
    readonly connection: pulumi.Output<command.types.input.remote.ConnectionArgs>;
}

/**
 * Memory, CPU, no-new-privileges and dropped capabilities of one container (catalog/limits.ts), as Docker provider
 * inputs. The pids limit is not among the provider's inputs: `limitPids` sets it.
 */
export function hardening(containerName: string, engine: Engine): Pick<docker.ContainerArgs, "memory" | "memorySwap" | "cpus" | "securityOpts" | "capabilities"> {
    const l = containerLimits(containerName, engine.capacity);
    return { memory: l.memoryMb, memorySwap: l.memoryMb, cpus: l.cpus, securityOpts: [...SECURITY_OPTS], capabilities: { drops: [...l.drops] } };
}

/**
 * The container's pids limit (cgroup pids.max), set with `docker update` right after it is created: the Docker
 * provider has no input for it (kreuzwerker/terraform-provider-docker v4.5.0 has pids only on services, commented out
 * in resource_docker_service_structures.go line 416). Docker keeps it in the container's HostConfig across restarts
 * and reboots; a replaced container is a new id, which runs this again. Safe to re-run.
 */
export function limitPids(resourceName: string, containerName: string, container: docker.Container, engine: Engine, opts: pulumi.CustomResourceOptions): command.remote.Command {
    const pids = containerLimits(containerName, engine.capacity).pids;
    return new command.remote.Command(
        `${resourceName}-pids`,
        { ...REMOTE_COMMAND_DEFAULTS, connection: engine.connection, create: `docker update --pids-limit ${pids} ${containerName} >/dev/null`, triggers: [container.id, pids] },
        { parent: opts.parent, dependsOn: [container] },
    );
}

/**
 * Docker labels are part of a container's and network's identity (a change recreates them): this one carries the
 * host's instance (HostHandle.instance), so a rebuilt server gets every container and network again.
 */
export const INSTANCE_LABEL = "live.visualkit.instance";
export function instanceLabels(engine: Engine): docker.types.input.ContainerLabel[] {
    return [{ label: INSTANCE_LABEL, value: engine.instance }];
}

/**
 * Pulls an image onto the host. The container references the image *id*, so a new tag or digest in config replaces
 * exactly the containers that use it (referencing `repoDigest` instead replaces on every run:
 * https://github.com/pulumi/pulumi-docker/issues/1431).
 *
 * `keepLocally`: the provider's delete is otherwise `docker rmi <name>` (terraform-provider-docker v4.5.0
 * internal/provider/resource_docker_image_funcs.go:190 returns early only with keep_locally). After a release that
 * never turned healthy, the replaced image resource stays pending delete; once the config is reverted, the next `up`
 * deletes it while the running containers use that very tag, Docker refuses, and every later `up` fails. Unused
 * images are removed on the host instead, by the ImagePrune timer.
 */
export function pullImage(resourceName: string, ref: string, engine: Engine, opts: { parent: pulumi.Resource }): docker.RemoteImage {
    return new docker.RemoteImage(resourceName, { name: ref, keepLocally: true, triggers: { [INSTANCE_LABEL]: engine.instance } }, { ...opts, provider: engine.provider });
}

/**
 * `NAME=value` entries sorted by name; every secret entry is its own Pulumi secret, so the plain ones stay readable
 * in previews while the secret ones show as `[secret]`.
 */
export function envEntries(
    plain: Readonly<Record<string, pulumi.Input<string>>>,
    secret: Readonly<Record<string, pulumi.Input<string>>> = {},
): pulumi.Input<string>[] {
    const names = [...Object.keys(plain), ...Object.keys(secret)];
    for (const n of names) {
        if (!ENV_NAME.test(n)) throw new Error(`environment variable name "${n}" is not valid`);
        if (names.indexOf(n) !== names.lastIndexOf(n)) throw new Error(`environment variable ${n} is set twice`);
    }
    const entry = (n: string, v: pulumi.Input<string>) => (typeof v === "string" ? `${n}=${v}` : pulumi.interpolate`${n}=${v}`);
    return names.sort().map((n) => (n in secret ? pulumi.secret(entry(n, secret[n])) : entry(n, plain[n])));
}

/** Caddy's health checks and scripts find every copy of a catalog container by this label (`docker ps --filter`). */
export const CONTAINER_LABEL = "live.visualkit.container";

/** One running copy of a catalog container: the primary, or its standby (see `ContainerSpec.standby`). */
export interface Replica {
    readonly role: "primary" | "standby";
    /** Docker name of this copy. */
    readonly name: string;
    /** Its fixed address on the platform network, when the service has one. */
    readonly networkAddress?: string;
}

/** The copies of a container in the order they are replaced: the standby first, so the primary's traffic has somewhere to go. */
export function replicasOf(service: ServiceSpec, container: ContainerSpec): Replica[] {
    const primary: Replica = { role: "primary", name: container.name, ...(service.networkAddress ? { networkAddress: service.networkAddress } : {}) };
    const standby = container.standby;
    return standby ? [{ role: "standby", name: standby.name, ...(standby.networkAddress ? { networkAddress: standby.networkAddress } : {}) }, primary] : [primary];
}

/** The host ports a catalog container (or its standby copy) publishes, on the loopback address and TCP only. */
export function publishedPorts(service: ServiceSpec, container: ContainerSpec, role: Replica["role"] = "primary"): docker.types.input.ContainerPort[] {
    return container.publishes.map((id) => {
        const p = portOf(service.ports, id, `container ${container.name}`);
        if (p.protocol !== "tcp") throw new Error(`catalog: container ${container.name} publishes ${p.protocol} port ${p.port}; only TCP is ever published`);
        if (service.bindAddress !== PUBLISH_ADDRESS) throw new Error(`catalog: ${service.id} binds ${service.bindAddress}; published ports listen on ${PUBLISH_ADDRESS} only`);
        const external = role === "standby" ? p.standbyPort : p.port;
        if (external === undefined) throw new Error(`catalog: port ${id} of ${container.name} has no standby port`);
        return { internal: p.containerPort, external, ip: PUBLISH_ADDRESS, protocol: "tcp" };
    });
}

export interface ServiceContainerArgs {
    /** Catalog service the container belongs to (ports, bind address). */
    readonly service: ServiceSpec;
    /** Catalog container: its name on the host, the ports it publishes and its health check. */
    readonly container: ContainerSpec;
    /** Image id, from `pullImage(...).imageId`. */
    readonly image: pulumi.Input<string>;
    /** From `envEntries`. */
    readonly envs?: pulumi.Input<string>[];
    /** Seconds the service may take to boot before failed checks count. @default 30 */
    readonly startPeriodSeconds?: number;
    /** Host networking: nothing is published and the health check probes the service's bind address. @default false */
    readonly hostNetwork?: boolean;
    /** The rest of the container's arguments (networks, volumes, command, uploads). */
    readonly extra?: ContainerExtra;
    /** What differs between the primary and its standby copy besides name and host ports (vk-agent's RTP address). */
    readonly perReplica?: (replica: Replica) => { readonly envs?: pulumi.Input<string>[]; readonly extra?: ContainerExtra };
}

type ContainerExtra = Omit<
    docker.ContainerArgs,
    "name" | "image" | "labels" | "envs" | "ports" | "healthcheck" | "restart" | "logDriver" | "logOpts" | "wait" | "waitTimeout" | "networkMode" | "destroyGraceSeconds"
>;

/**
 * A long-running service container. `pulumi up` waits until Docker reports it healthy and fails with its name
 * otherwise: the wait covers the start period plus enough intervals for the retries to run out.
 *
 * A container with a standby copy is two resources: the standby, then the primary, which depends on it. An image
 * change replaces the standby first (Caddy keeps sending traffic to the primary), waits until it is healthy, and only
 * then replaces the primary (Caddy retries on the standby meanwhile). A new version that never turns healthy stops the
 * deployment at the standby, so the primary keeps the previous version and keeps serving. Returns the primary.
 *
 * For such copies the wait is a readiness gate (lib/readiness.ts: the container's own health check run every second
 * over SSH, `${resource}-ready`), not the provider's `wait`: Docker's first check comes one 30 s `interval` after the
 * start, which made an image update ~65 s of waiting. Docker's check keeps its 30 s interval for the steady state
 * (restarts, monitoring). Containers without a standby (Postgres, Redis, Janus, sidekiq, or all with
 * `standbyReplicas false`) keep the provider's wait: their dependents rely on it and they are stop-then-start anyway.
 */
export function serviceContainer(resourceName: string, a: ServiceContainerArgs, engine: Engine, opts: pulumi.CustomResourceOptions): docker.Container {
    const health = a.container.health;
    if (!health) throw new Error(`catalog: container ${a.container.name} has no health check; pulumi up could not wait for it`);
    const startPeriod = a.startPeriodSeconds ?? 30;
    const t = HEALTH_TIMING;
    const gated = a.container.standby !== undefined;
    const waitSeconds = startPeriod + t.intervalSeconds * (t.retries + 1) + t.timeoutSeconds;
    const tests = healthcheckTest(health, a.hostNetwork ? a.service.bindAddress : PUBLISH_ADDRESS);
    let previous: pulumi.Resource | undefined;
    let primary: docker.Container | undefined;
    for (const replica of replicasOf(a.service, a.container)) {
        const own = a.perReplica?.(replica) ?? {};
        const dependsOn = ([] as pulumi.Input<pulumi.Resource>[]).concat((opts.dependsOn ?? []) as pulumi.Input<pulumi.Resource>[], previous ? [previous] : []);
        const copyName = replica.role === "primary" ? resourceName : `${resourceName}-${replica.role}`;
        const container = new docker.Container(
            copyName,
            {
                ...a.extra,
                ...own.extra,
                name: replica.name,
                image: a.image,
                labels: [...instanceLabels(engine), { label: CONTAINER_LABEL, value: a.container.name }],
                envs: own.envs ?? a.envs ?? [],
                restart: RESTART_POLICY,
                logDriver: CONTAINER_LOGS.driver,
                logOpts: { ...CONTAINER_LOGS.opts },
                ...(a.hostNetwork ? { networkMode: "host" } : { ports: publishedPorts(a.service, a.container, replica.role) }),
                healthcheck: {
                    tests,
                    // In the provider's stored form (lib/go-duration.ts): `180s` would read back as `3m0s` and differ on every run.
                    interval: goSeconds(t.intervalSeconds),
                    timeout: goSeconds(t.timeoutSeconds),
                    retries: t.retries,
                    startPeriod: goSeconds(startPeriod),
                },
                ...(gated ? { wait: false } : { wait: true, waitTimeout: waitSeconds }),
                destroyGraceSeconds: STOP_GRACE_SECONDS,
                ...hardening(replica.name, engine),
            },
            {
                ...opts,
                dependsOn,
                provider: engine.provider,
                // A container's name and published ports are unique on the host: the old one must go before the new one starts.
                deleteBeforeReplace: true,
                // A container that never turned healthy is recorded with initialization errors; without this the next
                // `pulumi up` would "update" it in place (no wait, no health check) and call it done
                // (https://github.com/pulumi/pulumi/pull/7226). Every other change replaces a container anyway.
                replaceOnChanges: ["*"],
            },
        );
        limitPids(copyName, replica.name, container, engine, opts);
        previous = gated ? readinessGate(copyName, replica.name, container, tests, waitSeconds, engine, opts) : container;
        if (replica.role === "primary") primary = container;
    }
    return primary!;
}

/**
 * Waits until a new copy passes its own health check (lib/readiness.ts). `triggers` on the container's id: it runs again
 * exactly when the copy is replaced (pulumi-command: only `triggers` replace).
 */
function readinessGate(
    copyName: string,
    containerName: string,
    container: docker.Container,
    tests: string[],
    limitSeconds: number,
    engine: Engine,
    opts: pulumi.CustomResourceOptions,
): command.remote.Command {
    const create = readinessScript({ container: containerName, tests, probeTimeoutSeconds: HEALTH_TIMING.timeoutSeconds, limitSeconds });
    return new command.remote.Command(
        `${copyName}-ready`,
        { ...REMOTE_COMMAND_DEFAULTS, connection: engine.connection, create, triggers: [container.id] },
        { parent: opts.parent, dependsOn: [container] },
    );
}
