import { parseArgs, type ParseArgsConfig } from "node:util";

/**
 * `--help` / `-h` for the operator commands: the usage on standard output and exit 0, before anything else runs (no
 * SDK loaded, no stack read). Bad usage stays each command's own exit 2 with the same text on standard error.
 */
export function answerHelp(usage: string, argv: readonly string[] = process.argv.slice(2)): void {
    if (argv.includes("--help") || argv.includes("-h")) {
        console.log(usage);
        process.exit(0);
    }
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * A command's arguments through node's `util.parseArgs` (strict: an unknown option, or one without its value, is bad
 * usage): `--help` answered first, bad usage printed with the usage on standard error and exit 2.
 */
export function commandLine<O extends Options>(usage: string, options: O, argv: readonly string[] = process.argv.slice(2)) {
    answerHelp(usage, argv);
    try {
        return parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
    } catch (e) {
        console.error(`${(e as Error).message}\n${usage}`);
        process.exit(2);
    }
}
