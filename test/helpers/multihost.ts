/**
 * Multi-host stacks as test fixtures (config overrides on top of Pulumi.dev.yaml, not stack files that ship): the app
 * host plus one media cell, and the app host plus two. Used by the placement, render and mock tests.
 */
export const TWO_HOSTS = {
    hosts: { main: { services: ["platform-api", "chatwoot", "widget-cdn"] }, "media-a": { type: "cx22", volumeSizeGb: 10 } },
    mediaCells: { a: { host: "media-a", rtpPorts: "20000-29999" } },
} as const;

export const THREE_HOSTS = {
    hosts: { ...TWO_HOSTS.hosts, "media-b": { type: "cx32", volumeSizeGb: 20 } },
    mediaCells: { ...TWO_HOSTS.mediaCells, b: { host: "media-b", rtpPorts: "30000-39999" } },
} as const;
