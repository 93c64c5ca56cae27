import { blocks, sameSlot, takeoverConflicts, txtFamily, type ZoneRecord } from "../../catalog/takeover";

const rec = (type: string, name: string, content: string, extra: Partial<ZoneRecord> = {}): ZoneRecord => ({ id: `${type}-${name}-${content}`, type, name, content, ...extra });
const ZONE = "visualkit.live";

describe("where an existing record stands in the way of a managed one", () => {
    test("TXT records at one name are told apart by their v= tag; quotes do not matter", () => {
        expect(txtFamily('"v=spf1 include:zoho.com ~all"')).toBe("spf1");
        expect(txtFamily("google-site-verification=abc")).toBe("");
        const spf = { hostname: ZONE, type: "TXT", content: '"v=spf1 include:zoho.com ~all"' };
        expect(sameSlot(spf, rec("TXT", ZONE, "v=spf1 include:_spf.google.com ~all"))).toBe(true);
        expect(sameSlot(spf, rec("TXT", ZONE, "google-site-verification=abc"))).toBe(false);
    });

    test("MX records are one place per mail host; names compare without case or a trailing dot", () => {
        const mx = { hostname: ZONE, type: "MX", content: "mx.zoho.com" };
        expect(sameSlot(mx, rec("MX", "VisualKit.live.", "MX.zoho.com"))).toBe(true);
        expect(sameSlot(mx, rec("MX", ZONE, "mx2.zoho.com"))).toBe(false);
    });

    test("below the apex a CNAME blocks every other type and vice versa; at the apex it does not (flattening)", () => {
        expect(blocks({ hostname: `www.${ZONE}`, type: "AAAA" }, rec("CNAME", `www.${ZONE}`, "x.up.railway.app"), ZONE)).toBe(true);
        expect(blocks({ hostname: `app.${ZONE}`, type: "CNAME" }, rec("A", `app.${ZONE}`, "192.0.2.1"), ZONE)).toBe(true);
        expect(blocks({ hostname: ZONE, type: "MX", content: "mx.zoho.com" }, rec("CNAME", ZONE, "visualkit-landing.pages.dev"), ZONE)).toBe(false);
        expect(blocks({ hostname: `api.${ZONE}`, type: "AAAA" }, rec("A", `api.${ZONE}`, "192.0.2.1"), ZONE)).toBe(false);
    });

    test("conflicts leave out records the stack made (its comment) and adopted ones (their id)", () => {
        const slots = [{ hostname: `api.${ZONE}`, type: "A" }];
        const opts = { zone: ZONE, ownerPrefix: "Managed by Pulumi visualkit/prod:", adoptedIds: new Set(["adopted"]), stack: "prod" };
        expect(takeoverConflicts(slots, [rec("A", `api.${ZONE}`, "192.0.2.1", { comment: "Managed by Pulumi visualkit/prod: platform-api" })], opts)).toEqual([]);
        expect(takeoverConflicts(slots, [rec("A", `api.${ZONE}`, "192.0.2.1", { id: "adopted" })], opts)).toEqual([]);
        expect(takeoverConflicts(slots, [rec("A", `api.${ZONE}`, "192.0.2.1", { comment: "Managed by Pulumi visualkit/dev: x" })], opts)).toHaveLength(1);
    });
});
