import * as pulumi from "@pulumi/pulumi";
import type * as command from "@pulumi/command";
import type { SecretString } from "../config/secret";
import { toPulumiSecret } from "./secrets";

/**
 * How the command provider's SSH dial retries, sized for the first step after `hcloud.Server` reports "running":
 * the kernel is still booting (a dial gets no answer and waits `perDialTimeout`), then sshd is not up yet (a dial is
 * refused at once). The provider retries with a 0.1 s delay growing 1.5× to 5 s, so 60 refused dials cover about
 * 4 minutes of boot (measured: ~75 s to SSH for a fresh Debian 12), and a host that never answers (an address outside
 * visualkit:sshAllowedCidrs) fails after at most 60 × (10 + 5) s = 15 minutes, the readiness check's own budget.
 * The provider's defaults (10 dials, 15 s) give up after ~11 s of refusals: too soon for a server that just booted.
 * A dial only opens TCP (golang.org/x/crypto/ssh ClientConfig.Timeout); 10 s is ample for any reachable host.
 */
export const SSH_DIAL = { dialErrorLimit: 60, perDialTimeout: 10 } as const;

/**
 * The day-2 SSH connection to a host, as root, accepting only the host's own key: pulumi-command checks `hostKey` with
 * golang.org/x/crypto/ssh's FixedHostKey and offers only its algorithm (provider/pkg/provider/remote/connection.go,
 * v1.2.1, lines 88-97); without it the provider takes any key (InsecureIgnoreHostKey, line 97). A refused key fails the
 * handshake before authentication, so neither a key nor a command reaches an impostor. With `privateKey` (visualkit:sshPrivateKey) that key is sent, as a
 * Pulumi secret; without it nothing is sent and the provider authenticates through the ssh-agent it inherits from
 * `pulumi up`: pulumi-command (provider/pkg/provider/remote/connection*.go, v1.2.1) reads SSH_AUTH_SOCK itself when
 * `agentSocketPath` is unset. The socket path is deliberately not an input: it differs per login and per machine, and
 * a changed connection re-runs every remote Command (their update runs `create` again).
 */
export function sshConnection(host: pulumi.Input<string>, hostKey: pulumi.Input<string>, privateKey?: SecretString): pulumi.Output<command.types.input.remote.ConnectionArgs> {
    const key = privateKey ? { privateKey: toPulumiSecret(privateKey) } : {};
    return pulumi.output({ host, user: "root", hostKey, ...SSH_DIAL, ...key });
}

/**
 * Arguments every remote Command shares. The provider passes `environment` and, on a re-run, the previous
 * stdout/stderr (PULUMI_COMMAND_STDOUT/STDERR) as SSH "env" requests, which sshd refuses unless its AcceptEnv allows
 * them (Debian's allows LANG and LC_* only): `environment` then fails the step, the previous output logs a warning on
 * every re-run. No script here reads them, so none is sent; values travel in the command or on stdin.
 */
export const REMOTE_COMMAND_DEFAULTS = { addPreviousOutputInEnv: false } as const;
