import { loadConfig } from "./config";
import { GeneratedSecrets } from "./components/generated-secrets";
import { hostRoutes } from "./catalog";

/**
 * The VisualKit platform. Pulumi calls the exported function and uses what it returns as the stack outputs;
 * the offline render (`npm run render`) and the tests call it the same way under mocks.
 *
 * Order matters only here: config is parsed and validated first, so a bad stack file fails before any resource
 * is registered.
 */
async function main() {
    const { config, catalog } = loadConfig();
    const name = `visualkit-${config.stack}`;
    new GeneratedSecrets(`${name}-secrets`);

    return {
        stack: config.stack,
        environment: config.environment,
        domain: config.domain,
        endpoints: Object.fromEntries(
            hostRoutes(catalog).map(({ route }) => [route.id, `${route.target.kind === "proxy" && route.target.websocket ? "wss" : "https"}://${route.hostname}`]),
        ),
    };
}

export = main;
