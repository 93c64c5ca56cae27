import { Header } from "tar";

/**
 * The files a container gets before it starts (the Docker provider's `uploads`, sent to the Engine's PUT
 * /containers/{id}/archive like the provider does) as one ustar archive: regular files only, with mode and owner.
 * Each header is node-tar's `Header` (the encoder `tar.create` uses); the archive is header, content padded to
 * 512-byte blocks, and two empty blocks at the end.
 */

export interface TarFile {
    /** Path inside the archive, without a leading slash. */
    readonly path: string;
    readonly content: Buffer;
    readonly mode: number;
    readonly uid: number;
    readonly gid: number;
}

export function tar(files: readonly TarFile[]): Buffer {
    const parts = files.flatMap((f) => {
        const header = Buffer.alloc(512);
        const needsPax = new Header({ path: f.path, mode: f.mode, uid: f.uid, gid: f.gid, size: f.content.length, mtime: new Date(), type: "File" }).encode(header, 0);
        if (needsPax) throw new Error(`tar: ${f.path} does not fit a ustar header`);
        return [header, f.content, Buffer.alloc((512 - (f.content.length % 512)) % 512)];
    });
    return Buffer.concat([...parts, Buffer.alloc(1024)]);
}
