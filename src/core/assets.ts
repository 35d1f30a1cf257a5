// Loading shipped files (model, tokenizer, datasets, corpus) the same way in Node (from public/ on disk)
// and in the browser (fetch from the site root). Errors name the file.

export interface AssetLoader {
  bytes(path: string): Promise<Uint8Array>;
  text(path: string): Promise<string>;
}

export class AssetError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'AssetError';
  }
}

/** Browser: files under the page's base URL (Vite serves public/ at the root). */
export function fetchLoader(base = '/'): AssetLoader {
  const get = async (path: string) => {
    let res: Response;
    try {
      res = await fetch(base + path);
    } catch (e) {
      throw new AssetError(path, `could not be fetched (${(e as Error).message})`);
    }
    if (!res.ok)
      throw new AssetError(
        path,
        res.status === 404 ? 'file not found on the server' : `could not be loaded (HTTP ${res.status})`,
      );
    // single-page-app servers answer a missing file with index.html and status 200
    if (!path.endsWith('.html') && (res.headers.get('content-type') ?? '').includes('text/html'))
      throw new AssetError(path, 'file not found on the server (it answered with a web page)');
    return res;
  };
  return {
    bytes: async (p) => new Uint8Array(await (await get(p)).arrayBuffer()),
    text: async (p) => (await get(p)).text(),
  };
}

/** Node: files under a directory (default: the repository's public/). */
export async function diskLoader(root?: string): Promise<AssetLoader> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const url = await import('node:url');
  const dir = root ?? path.resolve(path.dirname(url.fileURLToPath(import.meta.url)), '../../public');
  const read = async (p: string) => {
    try {
      return await fs.readFile(path.join(dir, p));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new AssetError(
        p,
        code === 'ENOENT' ? `file not found under ${dir}` : `could not be read (${(e as Error).message})`,
      );
    }
  };
  return {
    bytes: async (p) => new Uint8Array(await read(p)),
    text: async (p) => (await read(p)).toString('utf8'),
  };
}
