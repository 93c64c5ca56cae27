import * as pulumi from "@pulumi/pulumi";
import { PolicyPack, type ResourceValidationPolicy, type StackValidationPolicy } from "@pulumi/policy";
import { resolve } from "node:path";
import { readStackConfig } from "../stack/stack-config";
import { policyContext } from "./context";
import { POLICIES, type PolicyContext, type PolicyResourceView } from "./policies";

/**
 * The CrossGuard pack: `pulumi preview|up --policy-pack policy`. Every rule is mandatory (a violation stops the
 * update); the rules themselves live in policies.ts. The stack's own file (Pulumi.<stack>.yaml, read as the
 * offline render reads it) is what they compare against, built once per run.
 */
let context: PolicyContext | undefined;
const ctx = (): PolicyContext => (context ??= policyContext({ ...readStackConfig(resolve(__dirname, ".."), pulumi.getStack()), stack: pulumi.getStack() }));
const view = (r: { type: string; name: string; props: Record<string, unknown>; opts: { protect: boolean } }): PolicyResourceView => ({ type: r.type, name: r.name, props: r.props, opts: { protect: r.opts.protect } });

new PolicyPack("visualkit", {
    enforcementLevel: "mandatory",
    policies: POLICIES.map((p): ResourceValidationPolicy | StackValidationPolicy =>
        p.stack
            ? {
                  name: p.name,
                  description: p.description,
                  enforcementLevel: "mandatory",
                  validateStack: (args, reportViolation) => {
                      const resources = args.resources.map(view);
                      for (const r of args.resources) p.resource?.(view(r), ctx(), (m) => reportViolation(m, r.urn));
                      p.stack!(resources, ctx(), (m) => reportViolation(m));
                  },
              }
            : {
                  name: p.name,
                  description: p.description,
                  enforcementLevel: "mandatory",
                  validateResource: (args, reportViolation) => p.resource!(view(args), ctx(), (m) => reportViolation(m)),
              },
    ),
});
