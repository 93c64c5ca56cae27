import { readEmail } from "../../../config/sections/email";
import { issue, readSection } from "../../helpers/config-reader";

const ZOHO = { emailMx: ["10 mx.zoho.eu", "20 MX2.zoho.eu."], emailSpf: "v=spf1 include:zoho.eu ~all", emailDkim: "v=DKIM1; k=rsa; p=MIIBIjANBgkq", emailDmarcRua: "mailto:dmarc@visualkit.live" };

describe("email section", () => {
    test("no records configured: none published", () => {
        expect(readSection(readEmail, {})).toEqual({ value: { email: undefined }, issues: [] });
    });

    test("Zoho's records normalize: hosts lowercased without the trailing dot, the declared DKIM selector and DMARC policy", () => {
        const { value, issues } = readSection(readEmail, ZOHO);
        expect(issues).toEqual([]);
        expect(value).toEqual({
            email: {
                mx: [{ priority: 10, host: "mx.zoho.eu" }, { priority: 20, host: "mx2.zoho.eu" }],
                spf: ZOHO.emailSpf,
                dkim: { selector: "zmail", value: ZOHO.emailDkim },
                dmarc: { policy: "none", rua: ZOHO.emailDmarcRua },
            },
        });
    });

    test("DKIM alone publishes records: no MX, no SPF", () => {
        expect(readSection(readEmail, { emailDkim: ZOHO.emailDkim }).value.email).toMatchObject({ mx: [], spf: undefined });
    });

    test.each([
        ["an MX without a priority", { emailMx: ["mx.zoho.eu"] }, issue("emailMx[0]", /is not 'priority host'/, /fix the entry in Pulumi\.prod\.yaml/)],
        ["an SPF without v=spf1", { emailSpf: "include:zoho.eu" }, issue("emailSpf", /is not an SPF record/, /v=spf1 include:zoho\.com ~all/)],
        ["a DKIM without a key", { emailDkim: "v=DKIM1; k=rsa" }, issue("emailDkim", /needs p=<base64 public key>/, /set visualkit:emailDkim/)],
        ["a selector with a dot", { emailDkimSelector: "z.mail" }, issue("emailDkimSelector", /is not a DKIM selector/, /set visualkit:emailDkimSelector zmail/)],
        ["a DMARC policy DNS does not know", { emailDmarcPolicy: "block" }, issue("emailDmarcPolicy", /must be one of none, quarantine, reject/, /set visualkit:emailDmarcPolicy none/)],
        ["a report address without mailto:", { emailDmarcRua: "dmarc@visualkit.live" }, issue("emailDmarcRua", /is not a list of mailto: addresses/, /mailto:dmarc@visualkit\.live/)],
    ])("%s is reported with its key and fix", (_, change, expected) => {
        expect(readSection(readEmail, { ...ZOHO, ...change }).issues).toEqual([expected]);
    });
});
