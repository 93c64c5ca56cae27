"use strict";
/**
 * The layers of the project, kept by the linter (`npm run lint`, part of `npm test`). Each folder may import only
 * from the folders below it; docs/design.md draws the picture. A rule here is the one place a layer is written down:
 * test/lint.test.ts checks that breaking one is reported.
 *
 *   catalog/            pure data: imports nothing of the project, no Pulumi SDK
 *   config/             reads and validates the stack file; may use catalog/input only
 *   render/             pure renderers (the Caddyfile too): catalog, lib's pure helpers; no config, no Pulumi SDK
 *   lib/                helpers shared by components and scripts; no renderer, component, script
 *   stack/              config + catalog
 *   components/         Pulumi components; never scripts, mocks, the policy pack
 *   program/            what index.ts runs: the component of each catalog service kind; like components/
 *   mocks/              the offline runtime; never components or scripts
 *   scripts/            operator commands; never components or the policy pack
 *   policy/             the CrossGuard pack; never scripts or components
 */
const tsParser = require("@typescript-eslint/parser");

/** An import pattern for a project folder, whatever depth the importing file sits at. */
const folder = (name) => [`**/${name}`, `**/${name}/**`];
const banned = (layer, names, why) => ({
    group: names.flatMap(folder),
    message: `${layer} must not import from ${names.join("/, ")}/: ${why} (eslint.config.js lists the layers).`,
});
const sdk = (layer) => ({ group: ["@pulumi/*"], message: `${layer} is pure: no Pulumi SDK import (components wire resources).` });

/** `files` → the import groups they may not use. */
const LAYERS = [
    [["catalog/**/*.ts"], [banned("catalog/", ["config", "render", "lib", "stack", "components", "mocks", "scripts", "policy"], "the catalog is pure data"), sdk("catalog/")]],
    [["config/**/*.ts"], [banned("config/", ["render", "lib", "stack", "components", "mocks", "scripts", "policy"], "config reads the stack file and nothing else; catalog/input is its one dependency")]],
    [["render/**/*.ts"], [banned("a renderer", ["config", "stack", "components", "mocks", "scripts", "policy"], "renderers take plain values"), sdk("a renderer")]],
    [["lib/**/*.ts"], [banned("lib/", ["render", "stack", "components", "mocks", "scripts", "policy"], "lib/ holds shared helpers below components and scripts")]],
    [["stack/**/*.ts"], [banned("stack/", ["render", "components", "mocks", "scripts", "policy"], "stack/ joins config and catalog only")]],
    [["components/**/*.ts", "program/**/*.ts"], [banned("components/", ["scripts", "mocks", "policy"], "components are what `pulumi up` runs")]],
    [["mocks/**/*.ts"], [banned("mocks/", ["components", "scripts", "policy"], "the mock runtime runs any program")]],
    [["scripts/**/*.ts"], [banned("scripts/", ["components", "policy"], "operator commands do not build resources")]],
    [["policy/**/*.ts"], [banned("policy/", ["scripts", "components"], "the pack reads the stack through stack/ and config/")]],
];

module.exports = [
    { ignores: ["node_modules/**", "rendered/**", ".ci/**", "**/*.js", "**/*.d.ts", "test/**"] },
    { files: ["**/*.ts"], languageOptions: { parser: tsParser, sourceType: "module" } },
    ...LAYERS.map(([files, patterns]) => ({ files, rules: { "no-restricted-imports": ["error", { patterns }] } })),
];
module.exports.LAYERS = LAYERS;
