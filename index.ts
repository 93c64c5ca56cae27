import { hostRoutes } from "./catalog";
import { CaddyConfig } from "./components/caddy-config";
import { GeneratedSecrets } from "./components/generated-secrets";
import { HetznerHost } from "./components/hetzner-host";
import { loadConfig } from "./config";
import { publishFile } from "./lib/artifacts";
import type { HostHandle } from "./lib/host";
import { stackOutputs } from "./lib/outputs";
import { renderArchitecture } from "./render/architecture";

/**
 * The VisualKit platform. Pulumi calls the exported function and uses what it returns as the stack outputs;
 * the offline render (`npm run render`) and the tests call it the same way under mocks.
 *
 * Normalize → validate → create: config is parsed and validated first, so a bad stack file fails with every
 * problem listed before any resource is registered.
 */
async function main() {
    const { config, catalog } = loadConfig();
    const name = `visualkit-${config.stack}`;
    const secrets = new GeneratedSecrets(`${name}-secrets`);

    // Hosts: one per catalog host, looked up by the name each service gives.
    const hosts: Record<string, HostHandle> = {};
    const servers = catalog.hosts.map((host) => {
        const server = new HetznerHost(`${name}-${host.name}`, {
            host,
            catalog,
            serverType: config.server.type,
            location: config.server.location,
            image: config.server.image,
            backups: config.server.backups,
            volumeSizeGb: config.server.volumeSizeGb,
            protect: config.protect,
            sshPublicKeys: config.ssh.publicKeys,
            sshAllowedCidrs: config.ssh.allowedCidrs,
            sshPrivateKey: config.ssh.privateKey,
            labels: { project: config.project, stack: config.stack },
        });
        hosts[host.name] = server;
        return server;
    });

    // Cloudflare: DNS records from the catalog, e-mail records, Pages projects, www redirect, zone settings.

    // Caddy: the Caddyfile rendered from the catalog, installed on each host that serves routes.
    const caddyHosts = catalog.hosts.filter((host) => hostRoutes(catalog, host.name).length > 0);
    for (const host of caddyHosts) {
        new CaddyConfig(`${name}-${host.name}-caddy`, {
            host: hosts[host.name],
            catalog,
            acmeEmail: config.acmeEmail,
            caddyVersion: config.caddyVersion,
            logLevel: config.logLevel,
            publishAs: caddyHosts.length === 1 ? "Caddyfile" : `${host.name}/Caddyfile`,
        });
    }

    // Docker services on each host.

    // The architecture picture (rendered/<stack>/architecture.md), drawn from the same catalog as everything above.
    publishFile("architecture.md", renderArchitecture(catalog, { stack: config.stack }));

    void secrets;
    void hosts;
    // The outputs contract (lib/outputs.ts, checked against outputs.schema.json): other tools rely on its shape.
    return stackOutputs({
        stack: config.stack,
        environment: config.environment,
        catalog,
        hosts: Object.fromEntries(servers.map((s) => [s.name, s])),
    });
}

export = main;
