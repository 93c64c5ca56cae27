/**
 * A minimal ustar writer for the files a container gets before it starts (the Docker provider's `uploads`, sent to
 * the Engine's PUT /containers/{id}/archive like the provider does): regular files only, with mode and owner.
 */

export interface TarFile {
    /** Path inside the archive, without a leading slash. */
    readonly path: string;
    readonly content: Buffer;
    readonly mode: number;
    readonly uid: number;
    readonly gid: number;
}

function octal(n: number, width: number): string {
    return n.toString(8).padStart(width - 1, "0") + "\0";
}

function header(f: TarFile): Buffer {
    const h = Buffer.alloc(512);
    let name = f.path;
    let prefix = "";
    if (Buffer.byteLength(name) > 100) {
        const cut = name.lastIndexOf("/", 154);
        prefix = name.slice(0, cut);
        name = name.slice(cut + 1);
    }
    h.write(name, 0, 100);
    h.write(octal(f.mode, 8), 100);
    h.write(octal(f.uid, 8), 108);
    h.write(octal(f.gid, 8), 116);
    h.write(octal(f.content.length, 12), 124);
    h.write(octal(Math.floor(Date.now() / 1000), 12), 136);
    h.write("        ", 148);
    h.write("0", 156);
    h.write("ustar\0", 257);
    h.write("00", 263);
    h.write(prefix, 345, 155);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(octal(sum, 7) + " ", 148);
    return h;
}

export function tar(files: readonly TarFile[]): Buffer {
    const parts: Buffer[] = [];
    for (const f of files) {
        parts.push(header(f), f.content, Buffer.alloc((512 - (f.content.length % 512)) % 512));
    }
    parts.push(Buffer.alloc(1024));
    return Buffer.concat(parts);
}
