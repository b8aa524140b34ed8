import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { owningPackage } from './packages.js';
import { VmRunnerError } from './errors.js';

interface Manifest {
  name?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  exports?: Record<string, unknown>;
  uos?: { inject?: unknown };
}

const CONDITIONS = ['uos-source', 'import', 'module', 'default'];

/** The file an `exports` entry names under the build's conditions (source first), or undefined. */
function exportTarget(target: unknown): string | undefined {
  if (typeof target === 'string') return target;
  if (typeof target !== 'object' || target === null) return undefined;
  for (const condition of CONDITIONS) {
    const found = exportTarget((target as Record<string, unknown>)[condition]);
    if (found) return found;
  }
  return undefined;
}

/**
 * The modules whose exports become globals where a bundle names them (esbuild's `inject`): every
 * dependency of the service that lists export subpaths in its package.json's `"uos": { "inject": [...] }`
 * (@uos/http's web globals: Request, Response, URL, ReadableStream, ...). esbuild replaces a free
 * identifier with the import only where the bundle uses it, so a service that never names `Request`
 * carries none of it.
 */
export function injectedModules(entry: string): string[] {
  const service = owningPackage(entry);
  if (!service) return [];
  const manifestPath = join(service.directory, 'package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  const require = createRequire(manifestPath);
  const files: string[] = [];
  for (const name of Object.keys({ ...manifest.dependencies, ...manifest.devDependencies })) {
    let dependencyManifestPath: string;
    try {
      dependencyManifestPath = require.resolve(`${name}/package.json`);
    } catch {
      continue; // not installed, or its exports hide package.json: it cannot declare globals either
    }
    const dependency = JSON.parse(readFileSync(dependencyManifestPath, 'utf8')) as Manifest;
    const inject = dependency.uos?.inject;
    if (inject === undefined) continue;
    if (!Array.isArray(inject) || inject.some((s) => typeof s !== 'string')) {
      throw new VmRunnerError('bundle-failed', `${dependencyManifestPath}: "uos.inject" must be a list of export subpaths such as "./web"`);
    }
    for (const subpath of inject as string[]) {
      const target = exportTarget(dependency.exports?.[subpath]);
      const file = target && resolve(dirname(dependencyManifestPath), target);
      if (!file || !existsSync(file)) {
        throw new VmRunnerError(
          'bundle-failed',
          `${name} declares the globals module "${subpath}" in "uos.inject", but its exports map has no file for it${file ? ` (${file} is missing: build the package?)` : ''}`,
        );
      }
      files.push(file);
    }
  }
  return files;
}
