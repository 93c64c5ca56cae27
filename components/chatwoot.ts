import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { CHATWOOT_DATABASE, CONTAINER_LOGS, DATA_FOLDERS } from "../catalog/defaults";
import { portOf, routeUrl } from "../catalog/derived";
import { archiveSettings, pitrLayout } from "../catalog/pitr";
import type { ContainerSpec, HostSpec, ServiceSpec } from "../catalog/types";
import type { SecretString } from "../config/secret";
import { envEntries, hardening, instanceLabels, pullImage, serviceContainer } from "../lib/containers";
import { toPulumiSecret } from "../lib/secrets";
import type { DockerHost } from "./docker-host";

/** Ports inside the Chatwoot network (the images' defaults); nothing outside the network reaches them. */
const POSTGRES_PORT = 5432;
const REDIS_PORT = 6379;
const POSTGRES_USER = CHATWOOT_DATABASE.user;
const POSTGRES_DB = CHATWOOT_DATABASE.name;
/** Rails boots slowly (asset manifest, Bootsnap) and its entrypoint waits for Postgres first. */
const RAILS_START_SECONDS = 180;
/** The job container's Docker name: `docker logs chatwoot-prepare` shows the last run. */
export const PREPARE_CONTAINER = "chatwoot-prepare";
export const PREPARE_COMMAND = ["bundle", "exec", "rails", "db:chatwoot_prepare"];

/**
 * The preparation's exit code once it is 0; otherwise the deployment stops here, before rails or sidekiq is touched.
 * The failed run stays in the state and re-runs by itself only with a new image or env, so the message gives the
 * command that re-runs it (`urn`: the job container's URN).
 */
export function preparedExitCode(exitCode: number | undefined, urn: string): number {
    if (exitCode !== 0) {
        throw new Error(
            `${PREPARE_CONTAINER} (${PREPARE_COMMAND.join(" ")}) exited with code ${exitCode}. Read its output with \`docker logs ${PREPARE_CONTAINER}\` on the host, ` +
                `fix the cause, then run it again with \`pulumi up --replace '${urn}'\` (it re-runs by itself only when the Chatwoot image or its environment changes).`,
        );
    }
    return exitCode;
}

export interface ChatwootArgs {
    /** Docker engine of the host; Chatwoot gets its own network, created after the platform network. */
    docker: DockerHost;
    /** The catalog's `chatwoot` service: container names, the published port, health checks, the support route. */
    service: ServiceSpec;
    /** The catalog host: Postgres, Redis and uploaded files live on its data volume (`dataDir`). */
    host: HostSpec;
    /** Image references; rails and sidekiq share `chatwoot`, and a new one re-runs the database preparation. */
    images: { readonly chatwoot: string; readonly postgres: string; readonly redis: string };
    /** Generated secrets (GeneratedSecrets): database and Redis passwords, Rails SECRET_KEY_BASE. */
    secrets: { readonly postgresPassword: pulumi.Input<string>; readonly redisPassword: pulumi.Input<string>; readonly secretKeyBase: pulumi.Input<string> };
    /** Outgoing mail; without it Chatwoot sends no e-mail (invitations, password resets). @default undefined */
    smtp?: { readonly address: string; readonly port: number; readonly username: string; readonly password: SecretString; readonly sender: string };
}

/**
 * Chatwoot: rails (published on loopback for Caddy) and sidekiq from one image, Postgres (pgvector) and Redis with
 * their data on the persistent volume. `db:chatwoot_prepare` (create or migrate the database) runs as a one-shot
 * container before rails and sidekiq on the first deployment and after every image change, and they are not
 * (re)created unless it exited 0; Chatwoot's own docs make this a manual step after each upgrade.
 */
export class Chatwoot extends pulumi.ComponentResource {
    public readonly frontendUrl: pulumi.Output<string>;
    /** Exit code of the last database preparation (0 once it succeeded). */
    public readonly prepareExitCode: pulumi.Output<number>;

    constructor(name: string, args: ChatwootArgs, opts?: pulumi.ComponentResourceOptions) {
        super("visualkit:docker:Chatwoot", name, {}, opts);
        const provider = args.docker.provider;
        const child = { parent: this, provider };
        const engine = args.docker;
        const spec = (suffix: string): ContainerSpec => {
            const c = args.service.containers.find((x) => x.name === `chatwoot-${suffix}`);
            if (!c) throw new Error(`catalog: chatwoot has no container chatwoot-${suffix}`);
            return c;
        };
        const [railsSpec, sidekiqSpec, postgresSpec, redisSpec] = ["rails", "sidekiq", "postgres", "redis"].map(spec);
        const route = args.service.routes[0];
        if (!route) throw new Error("catalog: chatwoot has no route; FRONTEND_URL needs its public hostname");
        const frontendUrl = routeUrl(route);
        const data = (folder: string) => `${args.host.dataDir}/${folder}`;
        const pgPassword = pulumi.secret(args.secrets.postgresPassword);
        const redisPassword = pulumi.secret(args.secrets.redisPassword);

        // Postgres and Redis are reachable from rails and sidekiq only, not from the other services' network. Docker
        // picks this network's subnet from its pool; created first, it could take the platform network's fixed one.
        const network = new docker.Network(
            `${name}-network`,
            { name: `${args.host.network.name}-chatwoot`, driver: "bridge", labels: instanceLabels(engine) },
            { ...child, dependsOn: [args.docker.network] },
        );
        const networksAdvanced = [{ name: network.name }];

        const { postgres, redis } = stores(name, args, { engine, networksAdvanced, parent: this }, { postgres: postgresSpec, redis: redisSpec }, { postgres: pgPassword, redis: redisPassword });

        const envs = chatwootEnv(args, frontendUrl, { postgres: postgresSpec.name, redis: redisSpec.name }, { postgres: pgPassword, redis: redisPassword });
        const storage = [{ hostPath: data(DATA_FOLDERS.chatwootStorage), containerPath: "/app/storage" }];
        // Chatwoot's compose file starts rails through this script: it waits for Postgres and clears a stale server.pid.
        const entrypoints = ["docker/entrypoints/rails.sh"];

        const image = pullImage(`${name}-image`, args.images.chatwoot, engine, { parent: this });
        const { prepare, gate } = migration(name, { engine, networksAdvanced, parent: this }, { image: image.imageId, envs, entrypoints, storage }, [postgres, redis]);

        const app = (suffix: string, container: ContainerSpec, extra: { command: string[]; entrypoints?: string[] }, startPeriodSeconds?: number) =>
            serviceContainer(
                `${name}-${suffix}`,
                { service: args.service, container, image: image.imageId, envs, startPeriodSeconds, extra: { ...extra, networksAdvanced, volumes: storage } },
                engine,
                // `prepare` too, although the gate already waits for it: a dependsOn edge never cascades a
                // delete-before-replace (only property dependencies do), and tools that order the containers alone
                // (the real-host tier's replay) see the migration before rails and sidekiq.
                { parent: this, dependsOn: [gate, prepare, postgres, redis] },
            );
        const httpPort = portOf(args.service.ports, railsSpec.publishes[0] ?? "(none)", "chatwoot-rails");
        app("rails", railsSpec, { entrypoints, command: ["bundle", "exec", "rails", "s", "-p", String(httpPort.containerPort), "-b", "0.0.0.0"] }, RAILS_START_SECONDS);
        app("sidekiq", sidekiqSpec, { command: ["bundle", "exec", "sidekiq", "-C", "config/sidekiq.yml"] }, 60);

        this.frontendUrl = pulumi.output(frontendUrl);
        this.prepareExitCode = prepare.exitCode;
        this.registerOutputs({ frontendUrl: this.frontendUrl, prepareExitCode: this.prepareExitCode });
    }
}

/** Where Chatwoot's containers go: the host's engine, the Chatwoot network, the component as parent. */
type Placement = { engine: ChatwootArgs["docker"]; networksAdvanced: { name: pulumi.Output<string> }[]; parent: pulumi.Resource };

/** The environment rails, sidekiq and the migration share: where Postgres and Redis are, the mailer, the secrets. */
function chatwootEnv(args: ChatwootArgs, frontendUrl: string, hosts: { postgres: string; redis: string }, passwords: { postgres: pulumi.Output<string>; redis: pulumi.Output<string> }) {
    const smtp = args.smtp;
    return envEntries(
        {
            RAILS_ENV: "production",
            NODE_ENV: "production",
            INSTALLATION_ENV: "docker",
            RAILS_LOG_TO_STDOUT: "true",
            FRONTEND_URL: frontendUrl,
            // Accounts are created by an administrator; the public sign-up form stays off.
            ENABLE_ACCOUNT_SIGNUP: "false",
            ACTIVE_STORAGE_SERVICE: "local",
            POSTGRES_HOST: hosts.postgres,
            POSTGRES_PORT: String(POSTGRES_PORT),
            POSTGRES_USERNAME: POSTGRES_USER,
            POSTGRES_DATABASE: POSTGRES_DB,
            REDIS_URL: `redis://${hosts.redis}:${REDIS_PORT}`,
            ...(smtp
                ? {
                      MAILER_SENDER_EMAIL: smtp.sender || `support@${new URL(frontendUrl).hostname}`,
                      SMTP_ADDRESS: smtp.address,
                      SMTP_PORT: String(smtp.port),
                      SMTP_USERNAME: smtp.username,
                      SMTP_AUTHENTICATION: "login",
                      SMTP_ENABLE_STARTTLS_AUTO: "true",
                      SMTP_DOMAIN: new URL(frontendUrl).hostname,
                  }
                : {}),
        },
        {
            SECRET_KEY_BASE: pulumi.secret(args.secrets.secretKeyBase),
            POSTGRES_PASSWORD: passwords.postgres,
            REDIS_PASSWORD: passwords.redis,
            ...(smtp ? { SMTP_PASSWORD: toPulumiSecret(smtp.password) } : {}),
        },
    );
}

/** Postgres and Redis, on the Chatwoot network only, their data on the volume. */
function stores(
    name: string,
    args: ChatwootArgs,
    on: Placement,
    specs: { postgres: ContainerSpec; redis: ContainerSpec },
    passwords: { postgres: pulumi.Output<string>; redis: pulumi.Output<string> },
) {
    const data = (folder: string) => `${args.host.dataDir}/${folder}`;
    const postgresImage = pullImage(`${name}-postgres-image`, args.images.postgres, on.engine, { parent: on.parent });
    // Point-in-time recovery (catalog/pitr.ts, docs/backups.md): the data folder sits at the host's own path inside the
    // container (pgBackRest on the host refuses a data_directory other than its pg1-path, pgbackrest
    // src/command/check/common.c checkDbConfig), finished WAL segments are copied into the spool (same path on both
    // sides, so the archive_command reads the same on the host), and the socket folder is shared for pgBackRest's
    // base backups. The image's entrypoint creates and owns PGDATA and makes /var/run/postgresql writable.
    const pitr = pitrLayout(args.host.dataDir);
    const postgres = serviceContainer(
        `${name}-postgres`,
        {
            service: args.service,
            container: specs.postgres,
            image: postgresImage.imageId,
            envs: envEntries({ POSTGRES_USER, POSTGRES_DB, PGDATA: pitr.dataPath }, { POSTGRES_PASSWORD: passwords.postgres }),
            extra: {
                networksAdvanced: on.networksAdvanced,
                command: ["postgres", ...Object.entries(archiveSettings(pitr.spool)).flatMap(([k, v]) => ["-c", `${k}=${v}`])],
                volumes: [
                    { hostPath: pitr.dataPath, containerPath: pitr.dataPath },
                    { hostPath: pitr.spool, containerPath: pitr.spool },
                    { hostPath: pitr.socketPath, containerPath: "/var/run/postgresql" },
                ],
            },
        },
        on.engine,
        { parent: on.parent },
    );

    const redisImage = pullImage(`${name}-redis-image`, args.images.redis, on.engine, { parent: on.parent });
    const redis = serviceContainer(
        `${name}-redis`,
        {
            service: args.service,
            container: specs.redis,
            image: redisImage.imageId,
            // The health check's redis-cli reads the password from here (catalog REDIS_HEALTH_CHECK), never argv.
            envs: envEntries({}, { REDISCLI_AUTH: passwords.redis }),
            extra: {
                networksAdvanced: on.networksAdvanced,
                // A config file rather than `--requirepass` keeps the password out of the process list; the image's
                // entrypoint still drops to the redis user and owns /data.
                command: ["redis-server", "/usr/local/etc/redis/redis.conf"],
                uploads: [
                    {
                        file: "/usr/local/etc/redis/redis.conf",
                        content: pulumi.secret(pulumi.interpolate`port ${REDIS_PORT}\nrequirepass "${passwords.redis}"\nappendonly yes\ndir /data\n`),
                    },
                ],
                volumes: [{ hostPath: data(DATA_FOLDERS.redis), containerPath: "/data" }],
            },
        },
        on.engine,
        { parent: on.parent },
    );
    return { postgres, redis };
}

/**
 * The database preparation (`db:chatwoot_prepare`) as a one-shot container, and the gate rails and sidekiq wait for.
 */
function migration(
    name: string,
    on: Placement,
    run: { image: pulumi.Output<string>; envs: ReturnType<typeof chatwootEnv>; entrypoints: string[]; storage: { hostPath: string; containerPath: string }[] },
    stores: pulumi.Resource[],
) {
    // Replaced with the image (or the env), so it runs once per Chatwoot version. `attach` makes the provider wait for
    // the exit; the provider records a failing exit code without failing, so the gate below does. Deleting the
    // previous run first is harmless (it has exited) and keeps the Docker name stable.
    const prepare = new docker.Container(
        `${name}-prepare`,
        {
            name: PREPARE_CONTAINER,
            image: run.image,
            labels: instanceLabels(on.engine),
            envs: run.envs,
            entrypoints: run.entrypoints,
            command: PREPARE_COMMAND,
            networksAdvanced: on.networksAdvanced,
            volumes: run.storage,
            restart: "no",
            mustRun: false,
            attach: true,
            logs: true,
            logDriver: CONTAINER_LOGS.driver,
            logOpts: { ...CONTAINER_LOGS.opts },
            ...hardening(PREPARE_CONTAINER, on.engine),
        },
        { parent: on.parent, provider: on.engine.provider, dependsOn: stores, deleteBeforeReplace: true, additionalSecretOutputs: ["containerLogs"] },
    );
    // The gate between the migration and the new rails/sidekiq. Rails and sidekiq must NOT take a property
    // dependency on `prepare`: the engine deletes, before a delete-before-replace resource is replaced, every
    // dependent whose inputs reference it and that would be replaced too (pulumi/pulumi
    // pkg/resource/deploy/step_generator.go:2068 calculateDependentReplacements, which scans only property
    // dependencies, :3328) — that took both rails copies and sidekiq down before the migration ran, and a failed
    // migration left Chatwoot down. The gate takes the property dependency instead (a command whose change is an
    // update, never a replacement, so nothing cascades past it) and rails/sidekiq only `dependsOn` it: the engine
    // still runs the migration first, while the old version serves, and a failure (the check below throws) stops
    // `pulumi up` before either is touched.
    const gate = new command.local.Command(
        `${name}-migrated`,
        {
            create: 'test "$PREPARE_EXIT_CODE" = 0',
            environment: { PREPARE_EXIT_CODE: pulumi.all([prepare.exitCode, prepare.urn]).apply(([code, urn]) => String(preparedExitCode(code, urn))) },
        },
        { parent: on.parent },
    );
    return { prepare, gate };
}
