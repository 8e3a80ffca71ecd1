/** Unit tests: DSN password refusal and masking, SPOCK_* env parsing, libpq admin env, the command's exit code 2. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envProblems } from '../../test/env-problems.js';
import { tempDir } from '../../test/helpers.js';
import { bootstrapRegion } from './bootstrap.js';
import { run } from './bootstrap-command.js';
import { dsnHasPassword, maskDsn, maskSecretsIn, parseConninfo } from './dsn.js';
import { BootstrapError, errText } from './errors.js';
import { SettingsError, adminConnectionFromEnv, dsnProblem, passfileLookup, settingsFromEnv } from './settings.js';

const SECRET = 'S3cr3t-Value-42';
const GOOD = (host: string) => `host=${host} port=5432 dbname=app user=pgedge sslmode=require sslcert=/projected/pgedge/certificates/tls.crt sslkey=/projected/pgedge/certificates/tls.key`;
const NODES = [
  { name: 'n1', dsn: GOOD('pgedge-n1-rw.pg.svc.clusterset.local') },
  { name: 'n2', dsn: GOOD('pgedge-n2-rw.pg.svc.clusterset.local') },
];
const env = (over: Record<string, string | undefined> = {}): NodeJS.ProcessEnv => ({
  SPOCK_NODE: 'n1',
  SPOCK_NODES: JSON.stringify(NODES),
  ...over,
});

const problemsOf = (e: NodeJS.ProcessEnv): string[] => envProblems(settingsFromEnv, e);

describe('DSN passwords are refused in every form libpq accepts', () => {
  const withPassword = [
    `${GOOD('h')} password=${SECRET}`,
    `host=h password = '${SECRET} with space'`,
    `password=${SECRET} host=h`,
    `host=h sslpassword=${SECRET} sslkey=/k`,
    `postgresql://pgedge:${SECRET}@h:5432/app?sslmode=require`,
    `postgres://pgedge:${SECRET}@h/app`,
    `postgresql://pgedge@h/app?password=${SECRET}`,
    `postgresql://h/app?sslmode=require&sslpassword=${SECRET}`,
  ];
  it.each(withPassword)('refuses %s', (dsn) => {
    expect(dsnHasPassword(dsn)).toBe(true);
    const problem = dsnProblem(dsn);
    expect(problem).toMatch(/contains a password/);
    expect(problem).not.toContain(SECRET);
  });

  it.each([GOOD('h'), 'host=h passfile=/etc/pg/passfile user=pgedge', 'host=h sslkey=/secrets/password.key', 'postgresql://pgedge@h:5432/app?sslmode=require&sslcert=/c&sslkey=/k'])(
    'accepts %s',
    (dsn) => {
      expect(dsnHasPassword(dsn)).toBe(false);
      expect(dsnProblem(dsn)).toBeUndefined();
    },
  );

  it('rejects malformed conninfo without echoing it', () => {
    expect(dsnProblem(`host=h ${SECRET}`)).toMatch(/not a valid libpq connection string/);
    expect(dsnProblem(`host=h ${SECRET}`)).not.toContain(SECRET);
    expect(dsnProblem("host='unterminated")).toMatch(/unterminated/);
    expect(dsnProblem('  ')).toBe('is empty');
  });

  it('parses quoting like libpq and masks secrets for logs', () => {
    expect(parseConninfo(`host = h  sslcert='/a b/c\\'d' dbname=app`)).toEqual([
      ['host', 'h'],
      ['sslcert', "/a b/c'd"],
      ['dbname', 'app'],
    ]);
    expect(maskDsn(`host=h password='${SECRET} x' user=u`)).toBe('host=h password=*** user=u');
    expect(maskDsn(`postgresql://u:${SECRET}@h/app?sslpassword=${SECRET}&x=1`)).toBe('postgresql://u:***@h/app?sslpassword=***&x=1');
    expect(maskDsn(`host=h ${SECRET}`)).toBe('[unparseable dsn]');
  });

  it('masks every DSN secret inside free text (server errors quote the DSN they failed with)', () => {
    const msg = [
      `could not connect to the postgresql server: connection refused`,
      `dsn was: host=n2 port=5432 user=pgedge password=${SECRET} dbname=app`,
      `quoted: password = '${SECRET} x\\' y' sslpassword='${SECRET}'`,
      `uri: postgresql://pgedge:${SECRET}@n2:5432/app?sslmode=require&password=${SECRET}#frag`,
      `postgres://u:${SECRET}@h/db`,
    ].join('\n');
    const masked = maskSecretsIn(msg);
    expect(masked).not.toContain(SECRET);
    expect(masked).toBe(
      [
        `could not connect to the postgresql server: connection refused`,
        `dsn was: host=n2 port=5432 user=pgedge password=*** dbname=app`,
        `quoted: password = *** sslpassword=***`,
        `uri: postgresql://pgedge:***@n2:5432/app?sslmode=require&password=***#frag`,
        `postgres://u:***@h/db`,
      ].join('\n'),
    );
    // Text without a secret is unchanged; masking twice changes nothing more.
    expect(maskSecretsIn('host=h sslcert=/password.crt user=u')).toBe('host=h sslcert=/password.crt user=u');
    expect(maskSecretsIn(masked)).toBe(masked);
    // errText and BootstrapError mask too.
    expect(errText(Object.assign(new Error(`x password=${SECRET}`), { detail: `postgresql://a:${SECRET}@h` }))).toBe('x password=*** (postgresql://a:***@h)');
    expect(new BootstrapError(`sub failed: password=${SECRET}`).message).toBe('sub failed: password=***');
  });
});

describe('settingsFromEnv (SPOCK_*)', () => {
  it('applies the defaults', () => {
    expect(settingsFromEnv(env())).toEqual({
      dialect: 'spock',
      node: 'n1',
      nodes: NODES,
      syncFrom: undefined,
      removedNodes: [],
      leave: false,
      replicationSchemas: ['public'],
      localSchemas: ['chat_local'],
      deadlineSeconds: 600,
    });
  });

  it('reads every variable', () => {
    expect(
      settingsFromEnv(
        env({ SPOCK_DIALECT: 'pglogical', SPOCK_NODE: 'n2', SPOCK_SYNC_FROM: 'n1', SPOCK_REPLICATION_SCHEMAS: 'public, chat ,', SPOCK_LOCAL_SCHEMAS: 'chat_local,scratch', SPOCK_DEADLINE_SECONDS: '90' }),
      ),
    ).toEqual({ dialect: 'pglogical', node: 'n2', nodes: NODES, syncFrom: 'n1', removedNodes: [], leave: false, replicationSchemas: ['public', 'chat'], localSchemas: ['chat_local', 'scratch'], deadlineSeconds: 90 });
    expect(settingsFromEnv(env({ SPOCK_REMOVED_NODES: 'n3, n4', SPOCK_LEAVE: 'false' }))).toMatchObject({ removedNodes: ['n3', 'n4'], leave: false });
    expect(settingsFromEnv(env({ SPOCK_NODES: JSON.stringify([NODES[0]]), SPOCK_LEAVE: 'true' }))).toMatchObject({ nodes: [NODES[0]], removedNodes: [], leave: true });
  });

  it('treats empty optional variables as unset (as Kubernetes renders them)', () => {
    expect(settingsFromEnv(env({ SPOCK_SYNC_FROM: '', SPOCK_DIALECT: '', SPOCK_DEADLINE_SECONDS: '', SPOCK_REMOVED_NODES: '', SPOCK_LEAVE: '' }))).toMatchObject({
      dialect: 'spock',
      syncFrom: undefined,
      deadlineSeconds: 600,
      removedNodes: [],
      leave: false,
    });
  });

  it.each<[string, Record<string, string | undefined>, RegExp]>([
    ['missing node', { SPOCK_NODE: undefined }, /^SPOCK_NODE: is required but not set$/],
    ['missing nodes', { SPOCK_NODES: undefined }, /^SPOCK_NODES: is required but not set$/],
    ['bad dialect', { SPOCK_DIALECT: 'bdr' }, /^SPOCK_DIALECT: /],
    ['bad node name', { SPOCK_NODE: 'N-1' }, /^SPOCK_NODE: must be 1-24 lowercase letters or digits/],
    ['nodes not JSON', { SPOCK_NODES: '[{name:n1}]' }, /^SPOCK_NODES: is not valid JSON$/],
    ['nodes wrong shape', { SPOCK_NODES: JSON.stringify([{ name: 'n1', url: 'x' }]) }, /^SPOCK_NODES: /],
    ['nodes empty', { SPOCK_NODES: '[]' }, /^SPOCK_NODES: must list every region/],
    ['this node not listed', { SPOCK_NODE: 'n3' }, /^SPOCK_NODE: node "n3" is not in SPOCK_NODES/],
    ['duplicate node', { SPOCK_NODES: JSON.stringify([...NODES, NODES[0]]) }, /^SPOCK_NODES\[2\]\.name: node "n1" is listed twice$/],
    ['sync from itself', { SPOCK_SYNC_FROM: 'n1' }, /^SPOCK_SYNC_FROM: a node cannot sync from itself$/],
    ['sync from unknown', { SPOCK_SYNC_FROM: 'n7' }, /^SPOCK_SYNC_FROM: node "n7" is not in SPOCK_NODES$/],
    ['deadline not a number', { SPOCK_DEADLINE_SECONDS: '10m' }, /^SPOCK_DEADLINE_SECONDS: must be a whole number$/],
    ['deadline zero', { SPOCK_DEADLINE_SECONDS: '0' }, /^SPOCK_DEADLINE_SECONDS: /],
    ['schemas empty', { SPOCK_REPLICATION_SCHEMAS: ' , ' }, /^SPOCK_REPLICATION_SCHEMAS: must list at least one entry/],
    ['leave not a boolean', { SPOCK_LEAVE: 'yes' }, /^SPOCK_LEAVE: must be true or false$/],
    ['leave in capitals', { SPOCK_LEAVE: 'TRUE' }, /^SPOCK_LEAVE: must be true or false$/],
    ['removed list empty', { SPOCK_REMOVED_NODES: ' , ' }, /^SPOCK_REMOVED_NODES: must list at least one entry/],
    ['removed bad name', { SPOCK_REMOVED_NODES: 'n3,N-4' }, /^SPOCK_REMOVED_NODES\[1\]: must be 1-24 lowercase letters or digits/],
    ['removed twice', { SPOCK_REMOVED_NODES: 'n3,n3' }, /^SPOCK_REMOVED_NODES\[1\]: node "n3" is listed twice$/],
    ['removed but still a region', { SPOCK_REMOVED_NODES: 'n3,n2' }, /^SPOCK_REMOVED_NODES\[1\]: node "n2" is also in SPOCK_NODES; a removed node must no longer be listed/],
    ['removing itself', { SPOCK_REMOVED_NODES: 'n1' }, /^SPOCK_REMOVED_NODES\[0\]: this node cannot remove itself \(a leaving region sets SPOCK_LEAVE=true\)$/],
    ['sync from a removed node', { SPOCK_REMOVED_NODES: 'n3', SPOCK_SYNC_FROM: 'n3' }, /^SPOCK_SYNC_FROM: node "n3" is in SPOCK_REMOVED_NODES \(leaving the mesh\); sync from a remaining node$/],
    ['leaving with peers listed', { SPOCK_LEAVE: 'true' }, /^SPOCK_NODES: with SPOCK_LEAVE=true it must list only this node/],
    ['leaving and syncing', { SPOCK_LEAVE: 'true', SPOCK_NODES: JSON.stringify([NODES[0]]), SPOCK_SYNC_FROM: 'n2' }, /^SPOCK_SYNC_FROM: must not be set with SPOCK_LEAVE=true/],
    ['leaving and removing', { SPOCK_LEAVE: 'true', SPOCK_NODES: JSON.stringify([NODES[0]]), SPOCK_REMOVED_NODES: 'n2' }, /^SPOCK_REMOVED_NODES: must not be set with SPOCK_LEAVE=true/],
    ['a schema both replicated and region-local', { SPOCK_REPLICATION_SCHEMAS: 'public,chat_local' }, /^SPOCK_LOCAL_SCHEMAS: schema\(s\) chat_local also in SPOCK_REPLICATION_SCHEMAS/],
  ])('%s', (_, over, problem) => {
    const problems = problemsOf(env(over));
    expect(problems.some((p) => problem.test(p)), problems.join('\n')).toBe(true);
  });

  it('refuses a DSN with a password, naming the node and never the value', () => {
    const nodes = [NODES[0], { name: 'n2', dsn: `${GOOD('h2')} password=${SECRET}` }];
    const problems = problemsOf(env({ SPOCK_NODES: JSON.stringify(nodes) }));
    expect(problems).toEqual([expect.stringMatching(/^SPOCK_NODES\[1\]\.dsn \(node n2\) contains a password \(password\)/)]);
    expect(problems.join('\n')).not.toContain(SECRET);
  });

  it('the library path applies the same rules (SettingsError)', async () => {
    await expect(
      bootstrapRegion({ dialect: 'pglogical', node: 'n1', nodes: [{ name: 'n1', dsn: `host=h password=${SECRET}` }], replicationSchemas: ['public'], deadlineSeconds: 5, admin: {} }),
    ).rejects.toBeInstanceOf(SettingsError);
    const base = { dialect: 'pglogical', node: 'n1', nodes: NODES, replicationSchemas: ['public'], deadlineSeconds: 5, admin: {} } as const;
    await expect(bootstrapRegion({ ...base, removedNodes: ['n2'] })).rejects.toThrow(/removedNodes\[0\]: node "n2" is also in nodes/);
    await expect(bootstrapRegion({ ...base, leave: true })).rejects.toThrow(/nodes: with leave=true it must list only this node/);
  });

  it('a leaving region with only itself listed, and a remaining one with removed nodes, are valid together with a sync source', () => {
    expect(problemsOf(env({ SPOCK_LEAVE: 'true', SPOCK_NODES: JSON.stringify([NODES[0]]) }))).toEqual([]);
    expect(problemsOf(env({ SPOCK_NODE: 'n2', SPOCK_REMOVED_NODES: 'n3,n4', SPOCK_SYNC_FROM: 'n1' }))).toEqual([]);
  });
});

describe('adminConnectionFromEnv (libpq variables)', () => {
  const dir = tempDir('regionmesh-spock-env-');
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const ca = file('ca.crt', 'CA PEM');
  const cert = file('tls.crt', 'CERT PEM');
  const key = file('tls.key', 'KEY PEM');

  it('client certificate with sslmode=require: TLS, server not verified, files read', () => {
    const c = adminConnectionFromEnv({ PGHOST: 'pgedge-n1-rw', PGPORT: '5432', PGDATABASE: 'app', PGUSER: 'admin', PGSSLMODE: 'require', PGSSLCERT: cert, PGSSLKEY: key });
    expect(c).toMatchObject({ host: 'pgedge-n1-rw', port: 5432, database: 'app', user: 'admin', ssl: { cert: 'CERT PEM', key: 'KEY PEM', rejectUnauthorized: false } });
  });

  it('verify-full checks chain and name; verify-ca and require+root cert check the chain only', () => {
    const base = { PGHOST: 'h', PGSSLROOTCERT: ca, PGSSLCERT: cert, PGSSLKEY: key };
    const full = adminConnectionFromEnv({ ...base, PGSSLMODE: 'verify-full' }).ssl as Record<string, unknown>;
    expect(full).toMatchObject({ ca: 'CA PEM', rejectUnauthorized: true });
    expect(full['checkServerIdentity']).toBeUndefined();
    for (const mode of ['verify-ca', 'require']) {
      const s = adminConnectionFromEnv({ ...base, PGSSLMODE: mode }).ssl as Record<string, unknown>;
      expect(s).toMatchObject({ ca: 'CA PEM', rejectUnauthorized: true });
      expect(typeof s['checkServerIdentity']).toBe('function');
    }
  });

  it('disable and unix sockets never use TLS', () => {
    expect(adminConnectionFromEnv({ PGHOST: 'h', PGSSLMODE: 'disable', PGSSLCERT: cert, PGSSLKEY: key }).ssl).toBe(false);
    expect(adminConnectionFromEnv({ PGHOST: '/var/run/postgresql', PGSSLMODE: 'require' }).ssl).toBe(false);
  });

  it('names bad variables, never their values', () => {
    const problems = envProblems(adminConnectionFromEnv, { PGPORT: 'x', PGSSLMODE: 'verify-full', PGSSLCERT: join(dir, 'missing.crt'), PGSSLKEY: key });
    expect(problems).toEqual([
      'PGPORT: must be a TCP port number',
      'PGSSLCERT: cannot read the file it names (ENOENT)',
      'PGSSLROOTCERT: PGSSLMODE=verify-full needs the CA certificate file (or "system")',
    ]);
  });

  it('reads a password only when the server asks: PGPASSWORD, else the passfile', async () => {
    const passfile = file('pgpass', `# comment\nother:5432:app:admin:wrong\nh:5432:app:admin:${SECRET}\n*:*:*:*:fallback\n`);
    const c = adminConnectionFromEnv({ PGHOST: 'h', PGDATABASE: 'app', PGUSER: 'admin', PGPASSFILE: passfile });
    expect(typeof c.password).toBe('function');
    expect(await (c.password as () => Promise<string>)()).toBe(SECRET);
    expect(passfileLookup('h\\:x:*:*:*:pw', { host: 'h:x', port: '1', database: 'd', user: 'u' })).toBe('pw');
    const d = adminConnectionFromEnv({ PGHOST: 'h', PGPASSWORD: 'from-env' });
    expect(await (d.password as () => Promise<string>)()).toBe('from-env');
  });
});

describe('bootstrap-spock command: bad environment is exit code 2', () => {
  const capture = () => {
    const lines: string[] = [];
    return { lines, write: (l: string) => void lines.push(l) };
  };

  it('a DSN with a password: exit 2, problem logged, secret never printed', async () => {
    const out = capture();
    const nodes = [NODES[0], { name: 'n2', dsn: `postgresql://pgedge:${SECRET}@h2/app` }];
    const code = await run([], { env: env({ SPOCK_NODES: JSON.stringify(nodes), PGHOST: 'h' }), write: out.write });
    expect(code).toBe(2);
    const text = out.lines.join('\n');
    expect(text).toContain('invalid environment');
    expect(text).toContain('SPOCK_NODES[1].dsn (node n2) contains a password');
    expect(text).not.toContain(SECRET);
  });

  it('missing variables: exit 2 and the names', async () => {
    const out = capture();
    expect(await run([], { env: {}, write: out.write })).toBe(2);
    expect(JSON.parse(out.lines[0]!)).toMatchObject({ level: 'error', msg: 'invalid environment', problems: ['SPOCK_NODE: is required but not set', 'SPOCK_NODES: is required but not set'] });
  });

  it('arguments are refused (settings come from the environment); --help is exit 0', async () => {
    expect(await run(['--node', 'n1'], { env: env(), write: capture().write })).toBe(2);
    const help = capture();
    expect(await run(['--help'], { env: {}, write: help.write })).toBe(0);
    expect(help.lines.join('\n')).toContain('SPOCK_SYNC_FROM');
    expect(help.lines.join('\n')).toContain('SPOCK_REMOVED_NODES');
    expect(help.lines.join('\n')).toContain('SPOCK_LEAVE');
  });

  it('an unreachable local database is exit 1 at the deadline (not 2)', async () => {
    const out = capture();
    const t0 = Date.now();
    // Port 1 on loopback: connection refused at once.
    const code = await run([], { env: env({ SPOCK_DEADLINE_SECONDS: '2', PGHOST: '127.0.0.1', PGPORT: '1', PGSSLMODE: 'disable' }), write: out.write, options: { maxBackoffMs: 500 } });
    expect(code).toBe(1);
    expect(Date.now() - t0).toBeLessThan(6_000);
    expect(out.lines.join('\n')).toContain('local database not ready before the deadline');
  });
});
