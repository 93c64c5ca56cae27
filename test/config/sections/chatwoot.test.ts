import { readChatwoot } from "../../../config/sections/chatwoot";
import { issue, readSection } from "../../helpers/config-reader";

const SMTP = { chatwootSmtpAddress: "smtp.zoho.eu", chatwootSmtpUsername: "support@visualkit.live", chatwootMailerSender: "VisualKit <support@visualkit.live>", chatwootSmtpPassword: "pw" };

describe("chatwoot section", () => {
    test("no SMTP host: no outgoing mail, and no password needed", () => {
        expect(readSection(readChatwoot, {})).toEqual({ value: { smtp: undefined }, issues: [] });
    });

    test("an SMTP host with its password: mail on the declared port", () => {
        const { value, issues } = readSection(readChatwoot, SMTP);
        expect(issues).toEqual([]);
        expect({ ...value.smtp, password: value.smtp?.password.reveal() }).toEqual({ address: "smtp.zoho.eu", port: 587, username: "support@visualkit.live", password: "pw", sender: "VisualKit <support@visualkit.live>" });
    });

    test.each([
        ["an SMTP host without its password", { chatwootSmtpPassword: undefined }, issue("chatwootSmtpPassword", /is a required secret and is not set/, /set --secret visualkit:chatwootSmtpPassword/)],
        ["a port above 65535", { chatwootSmtpPort: "70000" }, issue("chatwootSmtpPort", /70000 is not a port between 1 and 65535/, /set visualkit:chatwootSmtpPort 587/)],
    ])("%s is reported with its key and fix", (_, change, expected) => {
        expect(readSection(readChatwoot, { ...SMTP, ...change }).issues).toEqual([expected]);
    });
});
