import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

export interface PackageInfo {
  name: string;
  version: string;
  directory: string;
}

const cache = new Map<string, PackageInfo | undefined>();

/** The package that owns `file` (nearest package.json with a name). */
export function owningPackage(file: string): PackageInfo | undefined {
  let dir = dirname(file);
  const visited: string[] = [];
  for (;;) {
    if (cache.has(dir)) {
      const found = cache.get(dir);
      for (const v of visited) cache.set(v, found);
      return found;
    }
    visited.push(dir);
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        const json = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
        if (json.name) {
          const info = { name: json.name, version: json.version ?? '0.0.0', directory: dir };
          for (const v of visited) cache.set(v, info);
          return info;
        }
      } catch {
        // an unreadable manifest does not name a package; keep walking up
      }
    }
    const parent = dirname(dir);
    if (parent === dir) {
      for (const v of visited) cache.set(v, undefined);
      return undefined;
    }
    dir = parent;
  }
}

/** A short, stable name for a source file in stack traces: service-relative, or package/path. */
export function displayPath(file: string, serviceDir: string): string {
  const service = owningPackage(join(serviceDir, 'package.json'));
  const owner = owningPackage(file);
  if (owner && owner.directory !== service?.directory) {
    return `${owner.name}/${relative(owner.directory, file).split(sep).join('/')}`;
  }
  return relative(serviceDir, file).split(sep).join('/');
}
