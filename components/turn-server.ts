import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { publishFile, sha256 } from "../lib/artifacts";
import type { HostHandle } from "../lib/host";
import { shellQuote, shippedFile } from "../lib/shipped";
import { REMOTE_COMMAND_DEFAULTS } from "../lib/ssh";
import { renderTurnserverConf, turnSettings, type TurnService } from "../render/coturn";

export interface TurnServerArgs {
    /** The host coturn runs on; it must have a TURN address (HetznerHost gives one when the catalog has a TURN service). */
    host: HostHandle;
    /** The catalog's `turn` service, from `turnService(catalog)`: its name, ports and relay range. */
    service: TurnService;
    /** The shared secret (GeneratedSecrets.turnSecret): it reaches turnserver.conf over SSH stdin, never a command line. */
    secret: pulumi.Input<string>;
    /** Path under rendered/<stack>/ the config is published as. @default "coturn/turnserver.conf" */
    publishAs?: string;
    /**
     * What must exist before coturn is set up: Caddy's config, whose certificate-only site obtains the TURN name's
     * certificate that coturn's TLS listener needs. @default []
     */
    dependsOn?: pulumi.Resource[];
}

/** The shipped installer: coturn, the TURN address and its TCP 443 redirect, the certificate sync (docs/turn.md). */
export const INSTALL_COTURN_SCRIPT = "scripts/host/install-coturn.sh";

/**
 * coturn from Debian's package on the host itself (not a container: it needs the TURN address and a UDP range of 4001
 * ports, which Docker would publish one rule at a time), configured from render/coturn.ts. One SSH step installs and
 * converges everything; it re-runs when the config, the script, the address or the server changes, and restarts
 * coturn only when the config changed (a restart drops relayed calls).
 */
export class TurnServer extends pulumi.ComponentResource {
    /** SHA-256 of the deployed turnserver.conf (plain: a hash reveals nothing of the secret inside). */
    public readonly configHash: pulumi.Output<string>;

    constructor(name: string, args: TurnServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("visualkit:host:TurnServer", name, {}, opts);
        const turnIpv4 = args.host.turnIpv4;
        if (!turnIpv4) throw new Error(`TurnServer: host ${args.host.name} has no TURN address; the catalog's turn service must name it (address turnIpv4)`);
        const t = args.service;
        // Janus runs on the same host: its primary IPv4 is the one peer a TURN user may reach.
        const text = pulumi.secret(
            pulumi.all([turnIpv4, args.host.ipv4, args.secret]).apply(([turn, janus, secret]) => renderTurnserverConf(turnSettings(t, { turn, janus: [janus] }), secret)),
        );
        this.configHash = publishFile(args.publishAs ?? "coturn/turnserver.conf", text);
        const script = shippedFile(INSTALL_COTURN_SCRIPT);
        new command.remote.Command(
            `${name}-install`,
            {
                ...REMOTE_COMMAND_DEFAULTS,
                connection: args.host.connection,
                create: pulumi.interpolate`bash -c ${shellQuote(script)} install-coturn ${turnIpv4} ${t.ports.tls} ${t.tlsAlias ?? t.ports.tls} ${t.hostname} ${args.host.ipv4} ${t.janusRtp.from}-${t.janusRtp.to}`,
                stdin: text,
                triggers: [this.configHash, sha256(script), turnIpv4, args.host.instance],
            },
            { parent: this, dependsOn: [args.host.ready, ...(args.dependsOn ?? [])] },
        );
        this.registerOutputs({ configHash: this.configHash });
    }
}
