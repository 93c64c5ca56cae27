import { readJanus } from "../../../config/sections/janus";
import { issue, readSection } from "../../helpers/config-reader";

describe("janus section", () => {
    test("the declared defaults: the full RTP range, Google's STUN server, no forced restart", () => {
        expect(readSection(readJanus, {})).toEqual({ value: { rtpPorts: { from: 10000, to: 60000 }, stun: { host: "stun.l.google.com", port: 19302 }, forceRestart: false }, issues: [] });
    });

    test("a stun: prefix is accepted and an empty STUN server turns STUN off", () => {
        expect(readSection(readJanus, { janusStunServer: "stun:STUN.example.com:3478" }).value.stun).toEqual({ host: "stun.example.com", port: 3478 });
        expect(readSection(readJanus, { janusStunServer: "" }).value.stun).toBeUndefined();
    });

    test.each([
        ["a single port", { janusRtpPorts: "10000" }, issue("janusRtpPorts", /"10000" is not a port range/, /set visualkit:janusRtpPorts 10000-60000/)],
        ["a port above 65535", { janusRtpPorts: "10000-70000" }, issue("janusRtpPorts", /has a port outside 1-65535/, /10000-60000/)],
        ["an inverted range", { janusRtpPorts: "20000-10000" }, issue("janusRtpPorts", /is inverted/, /set visualkit:janusRtpPorts 10000-20000/)],
        ["a range of one port", { janusRtpPorts: "20000-20000" }, issue("janusRtpPorts", /fewer than 2 ports/, /10000-60000/)],
        ["a STUN server without a port", { janusStunServer: "stun.l.google.com" }, issue("janusStunServer", /is not host:port/, /stun\.l\.google\.com:19302/)],
        ["a forced restart spelt yes", { janusForceRestart: "yes" }, issue("janusForceRestart", /must be true or false/, /set visualkit:janusForceRestart true/)],
    ])("%s is reported with its key and fix", (_, change, expected) => {
        const { value, issues } = readSection(readJanus, change);
        expect(issues).toEqual([expected]);
        // An unusable range is left out, so the catalog (whose firewall opens it) is not built from it.
        if ("janusRtpPorts" in change) expect(value.rtpPorts).toBeUndefined();
    });
});
