/**
 * The fast test subset the pull-request workflow runs (.github/workflows/pull-request.yml):
 * every test file under the generator's folders, `regions/`, `constructs/`, `charts/` and
 * `test/`, picked by folder so a new test there is never missed. Under 2 minutes, no engine:
 * no `globalSetup` (lab/setup.ts installs nats-server, Cassandra, PostgreSQL and Mailpit, which
 * takes minutes and needs Go, Java and apt). Not run here: `lab/`, `app/` and `bench/` (real
 * engines: NATS, Cassandra, Postgres, Mailpit, the backend processes; 10+ minutes), which
 * `npm test` runs (.ci/run).
 *
 * The tests that validate against `../shared/schemas` (CRD schemas kept beside the project, not
 * in it) fail when that folder is missing. A pull-request runner has only the repository, so
 * there they are left out by name, with a warning (a workflow annotation on GitHub) listing
 * each; where the folder exists they run.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const ROOT = fileURLToPath(new URL('.', import.meta.url));
export const PR_TEST_FOLDERS = ['regions', 'constructs', 'charts', 'test'] as const;
const SHARED_SCHEMAS = join(ROOT, '..', 'shared', 'schemas', 'applicationset.schema.json');

function testFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.test.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)).split('\\').join('/'))
    .sort();
}

/** Test files that read ../shared/schemas (through test/helpers.ts's SHARED_SCHEMAS / sharedSchemasAvailable). */
function needingSharedSchemas(): string[] {
  return PR_TEST_FOLDERS.flatMap((d) => testFiles(join(ROOT, d))).filter((f) => /\b(SHARED_SCHEMAS|sharedSchemasAvailable)\b/.test(readFileSync(join(ROOT, f), 'utf8')));
}

const withoutSchemas = existsSync(SHARED_SCHEMAS) ? [] : needingSharedSchemas();
if (withoutSchemas.length > 0) {
  const message = `../shared/schemas is not beside the checkout: ${withoutSchemas.length} test file(s) that validate against it are not run here (npm test runs them): ${withoutSchemas.join(', ')}`;
  console.warn(process.env['GITHUB_ACTIONS'] === 'true' ? `::warning title=fast test subset::${message}` : `warning: ${message}`);
}

export default defineConfig({
  test: {
    include: PR_TEST_FOLDERS.map((d) => `${d}/**/*.test.ts`),
    exclude: ['**/node_modules/**', ...withoutSchemas],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    fileParallelism: false,
    reporters: ['default'],
  },
});
