/**
 * How a path fits a ustar header: up to 100 bytes as the name, or a prefix of up to 155 bytes and a name of up to
 * 100 bytes split at a slash. Pure (no file system), so config validation can reject a folder before anything is
 * packed; `undefined` when the path cannot be stored.
 */
export function ustarSplit(path: string): { readonly name: string; readonly prefix: string } | undefined {
    if (Buffer.byteLength(path) <= 100) return { name: path, prefix: "" };
    const cut = path.lastIndexOf("/", path.length - 2);
    if (cut < 0) return undefined;
    const prefix = path.slice(0, cut);
    const name = path.slice(cut + 1);
    return Buffer.byteLength(prefix) > 155 || Buffer.byteLength(name) > 100 ? undefined : { name, prefix };
}
