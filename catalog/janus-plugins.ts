/**
 * Which Janus plugins run, and why. Janus 1.1.2 has no allow-list of its own, only `plugins: { disable = ... }` by
 * file name (src/janus.c, the plugin loader at v1.1.2): the rendering disables every plugin Debian's package ships
 * that is not listed here, and test/render/janus.test.ts fails when the installed package ships a plugin this file
 * does not know (a new one would otherwise load unnoticed).
 *
 * Every plugin loaded here is a public attack surface: `janus.<domain>` and `janus-api.<domain>` are reachable by
 * anyone holding a token (docs/security.md). Plugins left out are what an attacker used before (issue 24): Streaming
 * (RTSP URLs = server-side requests into the host), SIP/NoSIP (UDP to any host:port), TextRoom, VideoCall,
 * VoiceMail, EchoTest, Record&Play, Lua and Duktape.
 */

export interface JanusPluginSpec {
    /** Janus's package name, what clients `attach` to and what a token lists. */
    readonly package: string;
    /** The shared object in the plugins folder (what `plugins: { disable }` names). */
    readonly file: string;
    /** Short id for its generated admin key and environment variable names (`audiobridge` → JANUS_AUDIOBRIDGE_ADMIN_KEY). */
    readonly id: string;
    /** Why the product needs it. */
    readonly reason: string;
    /**
     * The plugin's `general` settings besides `admin_key` (which every plugin here gets, generated): the locks that make
     * the admin key also guard RTP forwarding and file playback.
     */
    readonly settings: Readonly<Record<string, boolean | string | number>>;
    /**
     * The plugin opens plain-RTP sockets (AudioBridge's RTP participants). Without `local_ip` Janus binds them to the
     * first address it finds, the server's public one inside the public media range; the rendering binds them to
     * Janus's listener address (the bridge gateway), where vk-agent is.
     */
    readonly plainRtp?: boolean;
}

export const JANUS_PLUGINS: readonly JanusPluginSpec[] = [
    {
        package: "janus.plugin.audiobridge",
        file: "libjanus_audiobridge.so",
        id: "audiobridge",
        reason:
            "voice calls with the AI agent: callers' browsers join an AudioBridge room over WebRTC, and vk-agent joins the same " +
            "room as a plain-RTP participant (VK_AGENT_RTP_HOST/PORT) to carry the mix to Gemini and Gemini's voice back",
        // lock_rtp_forward: forwarding a room's mix to any host:port needs the admin key; lock_play_file: so does
        // playing a server-side file into a room. Plain-RTP participants are off per room unless the room was created
        // (with the admin key) with allow_rtp_participants.
        settings: { lock_rtp_forward: true, lock_play_file: true },
        plainRtp: true,
    },
    {
        package: "janus.plugin.videoroom",
        file: "libjanus_videoroom.so",
        id: "videoroom",
        reason: "the meeting app (meet.<domain>): participants' camera and screen share, which vk-agent subscribes to for Gemini's visual context",
        // Forwarding a publisher's media to any host:port (rtp_forward) needs the admin key.
        settings: { lock_rtp_forward: true },
    },
];

/**
 * Every plugin file in Debian 12's `janus` 1.1.2 package (`dpkg -L janus`), which images/janus/Dockerfile installs and
 * pins. The tests compare this with the installed package.
 */
export const DEBIAN_JANUS_PLUGIN_FILES = [
    "libjanus_audiobridge.so",
    "libjanus_duktape.so",
    "libjanus_echotest.so",
    "libjanus_lua.so",
    "libjanus_nosip.so",
    "libjanus_recordplay.so",
    "libjanus_sip.so",
    "libjanus_streaming.so",
    "libjanus_textroom.so",
    "libjanus_videocall.so",
    "libjanus_videoroom.so",
    "libjanus_voicemail.so",
] as const;

/** The plugin files the rendering disables: everything Debian ships that is not on the allow-list. */
export function disabledJanusPlugins(allowed: readonly JanusPluginSpec[] = JANUS_PLUGINS): string[] {
    const keep = new Set(allowed.map((p) => p.file));
    return DEBIAN_JANUS_PLUGIN_FILES.filter((f) => !keep.has(f));
}

/**
 * What the two Janus clients of the platform are given (secrets as secret environment variables, never in a rendered
 * file). platform-api: the internal API URL, the token secret (it mints callers' tokens) and every admin key (it creates
 * rooms). vk-agent: the token secret only (it mints its own token for its standing session). The names are reserved:
 * visualkit:platformApiEnv, platformApiSecretEnv and vkAgentEnv may not set them.
 */
export const JANUS_CLIENT_ENV = {
    platformApiUrl: "JANUS_API_URL",
    platformApiTokenSecret: "JANUS_TOKEN_SECRET",
    vkAgentTokenSecret: "VK_AGENT_JANUS_TOKEN_SECRET",
} as const;

/** `JANUS_AUDIOBRIDGE_ADMIN_KEY` for the AudioBridge plugin. */
export function janusAdminKeyEnv(p: Pick<JanusPluginSpec, "id">): string {
    return `JANUS_${p.id.toUpperCase()}_ADMIN_KEY`;
}
