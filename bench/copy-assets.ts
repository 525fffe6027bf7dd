import { copyFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * Copies the service's non-TypeScript files (the Redis scripts) from `root`/src into `root`/dist-bench/src, as
 * nest-cli.json's `assets` does for dist/: tsc alone compiles only the TypeScript.
 */
export function copyAssets(root: string): void {
  const src = join(root, 'src');
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? walk(path) : name.endsWith('.lua') ? [path] : [];
    });
  for (const file of walk(src)) {
    const target = join(root, 'dist-bench', 'src', relative(src, file));
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(file, target);
  }
}

if (require.main === module) copyAssets(resolve(__dirname, '..', '..'));
