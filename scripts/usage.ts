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
