/**
 * A secret config value. It never prints itself: `String(s)`, template literals and `JSON.stringify`
 * all give "[secret]", so a secret cannot leak into a rendered file or a log by accident. Outside config/, only
 * lib/secrets.ts (`toPulumiSecret`) calls `reveal()`: components receive Pulumi secrets.
 */
export class SecretString {
    readonly #value: string;
    constructor(value: string) {
        this.#value = value;
        Object.freeze(this);
    }
    reveal(): string {
        return this.#value;
    }
    toString(): string {
        return "[secret]";
    }
    toJSON(): string {
        return "[secret]";
    }
}

/** What the offline render puts where a secret would be; also what mocks return for generated passwords. */
export const SECRET_PLACEHOLDER = "[secret]";
