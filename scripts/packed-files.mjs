// What a package's tarball would hold that no consumer needs: build stamps, test files, test and fixture
// folders, TypeScript build caches, stray tarballs and logs. scripts/lint-packages.mjs runs it on the file
// list `npm pack --dry-run` prints (the same list `pnpm pack` and `pnpm publish` use), so a `files` entry
// that lets one in fails the lint instead of shipping. A test folder that the exports map names (the
// `@uos/net/test` devices, say) is public API and stays allowed.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Folder names that hold tests, never code a consumer imports (unless the exports map names them). */
const TEST_FOLDERS = new Set(['test', 'tests', 'testing', '__tests__', '__mocks__', 'fixtures', 'test-fixtures', '__fixtures__']);

/** Folders shipped on purpose whatever they hold: create-uos copies its template (tests included) into new projects. */
const SHIPPED_AS_IS = { 'create-uos': ['template/'] };

/** [pattern, why] for single files. */
const UNNEEDED_FILES = [
  [/(^|\/)\.build-stamp$/, 'a build stamp (add "!dist/.build-stamp" to "files")'],
  [/\.(test|spec)\.[cm]?[jt]sx?$/, 'a test file (add "!src/**/*.test.ts" to "files")'],
  [/\.tsbuildinfo$/, 'a TypeScript build cache'],
  [/\.tgz$/, 'a packed tarball'],
  [/\.log$/, 'a log file'],
  [/(^|\/)\.DS_Store$/, 'a Finder file'],
];

function targets(value) {
  if (typeof value === 'string') return [value];
  if (value && typeof value === 'object') return Object.values(value).flatMap(targets);
  return [];
}

/**
 * The packed paths (package-relative, `/`-separated) a consumer never needs, each with the reason, given
 * the package's manifest (its exports, bin and main may name files in a test folder on purpose).
 */
export function unneededFiles(paths, manifest = {}) {
  const named = [...targets(manifest.exports), ...targets(manifest.bin), manifest.main, manifest.types]
    .filter((target) => typeof target === 'string')
    .map((target) => target.replace(/^\.\//, ''));
  const exported = (folder) => named.some((target) => target.startsWith(`${folder}/`));
  const asIs = SHIPPED_AS_IS[manifest.name] ?? [];
  const found = [];
  for (const path of paths) {
    if (asIs.some((folder) => path.startsWith(folder))) continue;
    const file = UNNEEDED_FILES.find(([pattern]) => pattern.test(path));
    if (file) {
      found.push({ path, why: file[1] });
      continue;
    }
    const segments = path.split('/');
    for (let i = 0; i < segments.length - 1; i++) {
      if (!TEST_FOLDERS.has(segments[i])) continue;
      const folder = segments.slice(0, i + 1).join('/');
      if (exported(folder)) continue;
      found.push({ path, why: `in a test folder (${folder}/) the exports map does not name (add "!${folder}" to "files")` });
      break;
    }
  }
  return found;
}

/** The files `npm pack` would put in the tarball of the package in `dir` (prepack scripts not run). */
export async function packedFiles(dir) {
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: dir, maxBuffer: 64 * 1024 * 1024 });
  const [report] = JSON.parse(stdout);
  return report.files.map((file) => file.path);
}
