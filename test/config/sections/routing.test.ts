import { DEFAULT_HOSTNAMES, DEFAULT_PORTS } from "../../../catalog/input";
import { readRouting } from "../../../config/sections/routing";
import { issue, readSection } from "../../helpers/config-reader";

describe("routing section (ports and hostnames)", () => {
    test("no overrides: the catalog's defaults", () => {
        expect(readSection(readRouting, {})).toEqual({ value: { ports: DEFAULT_PORTS, hostnames: DEFAULT_HOSTNAMES }, issues: [] });
    });

    test("overrides replace exactly the ids they name", () => {
        const { value, issues } = readSection(readRouting, { ports: { vkAgent: 4004 }, hostnames: { api: "backend", landing: "@" } });
        expect(issues).toEqual([]);
        expect(value.ports).toEqual({ ...DEFAULT_PORTS, vkAgent: 4004 });
        expect(value.hostnames).toEqual({ ...DEFAULT_HOSTNAMES, api: "backend" });
    });

    test.each([
        ["an unknown port id", { ports: { platform: 3001 } }, issue("ports.platform", /is not a port id/, /use one of platformApi, websocket/)],
        ["a port above 65535", { ports: { chatwoot: 70000 } }, issue("ports.chatwoot", /70000 is not a port between 1 and 65535/, /--path 'visualkit:ports\.chatwoot' 3003 -s prod/)],
        ["a port as text", { ports: { chatwoot: "3003" } }, issue("ports.chatwoot", /"3003" is not a port/, /--path 'visualkit:ports\.chatwoot'/)],
        ["an unknown route id", { hostnames: { blog: "blog" } }, issue("hostnames.blog", /is not a route id/, /use one of api, ws/)],
        ["a label with an underscore", { hostnames: { api: "API_1" } }, issue("hostnames.api", /"API_1" is not a hostname label/, /--path 'visualkit:hostnames\.api' api -s prod/)],
        ["ports as a list", { ports: [3001] }, issue("ports", /must be a map of name: value/, /YAML map under visualkit:ports/)],
    ])("%s is reported with its key and fix, the default kept", (_, change, expected) => {
        const { value, issues } = readSection(readRouting, change);
        expect(issues).toEqual([expected]);
        expect(value).toEqual({ ports: DEFAULT_PORTS, hostnames: DEFAULT_HOSTNAMES });
    });
});
