import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { REDACT_PATHS, scrubText } from './log-scrub.js';
import { createLogger, type Level } from './log.js';

const SECRET = 'hunter2-s3cret';

/** A logger whose lines land in `lines` (raw) and `parsed`. */
function capture(base: Record<string, unknown> = {}, level: Level = 'debug') {
  const lines: string[] = [];
  const log = createLogger(base, { level, write: (l) => void lines.push(l) });
  return { log, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('log line shape', () => {
  it('is one JSON object per line: level label, ISO time, msg, bindings and fields; no pid/hostname', () => {
    const { log, lines, parsed } = capture({ component: 'chat' });
    log.info('100% done: %s stays literal', { conn: 7, ok: true });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('\n');
    const l = parsed()[0]!;
    expect(l).toEqual({ level: 'info', time: expect.any(String), component: 'chat', conn: 7, ok: true, msg: '100% done: %s stays literal' });
    expect(new Date(l['time'] as string).toISOString()).toBe(l['time']);
  });

  it('writes the level chosen and above, with the level as its label', () => {
    const { log, parsed } = capture({}, 'warn');
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(parsed().map((l) => [l['level'], l['msg']])).toEqual([
      ['warn', 'w'],
      ['error', 'e'],
    ]);
    const all = capture({}, 'debug');
    for (const level of ['debug', 'info', 'warn', 'error'] as const) all.log[level](level);
    expect(all.parsed().map((l) => l['level'])).toEqual(['debug', 'info', 'warn', 'error']);
  });

  describe('LOG_LEVEL', () => {
    const before = process.env['LOG_LEVEL'];
    afterEach(() => {
      if (before === undefined) delete process.env['LOG_LEVEL'];
      else process.env['LOG_LEVEL'] = before;
    });

    it('is the default level; a value that is no level logs at info and says so once', () => {
      process.env['LOG_LEVEL'] = 'ERROR';
      const lines: string[] = [];
      const quiet = createLogger({}, { write: (l) => void lines.push(l) });
      quiet.warn('not written');
      quiet.error('written');
      expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['written']);

      process.env['LOG_LEVEL'] = 'verbose';
      const got: string[] = [];
      const log = createLogger({}, { write: (l) => void got.push(l) });
      log.debug('not written');
      log.info('written');
      expect(got.map((l) => JSON.parse(l))).toEqual([
        expect.objectContaining({ level: 'warn', msg: "LOG_LEVEL='verbose' is not one of debug, info, warn, error; logging at info (set LOG_LEVEL to fix)" }),
        expect.objectContaining({ level: 'info', msg: 'written' }),
      ]);
    });
  });

  it('refuses a level option that is no level, naming the ones there are', () => {
    expect(() => createLogger({}, { level: 'trace' as Level })).toThrow("createLogger: level 'trace' is not one of debug, info, warn, error");
  });
});

describe('child loggers', () => {
  it('carry the parent bindings plus their own; a later binding replaces an earlier one (no duplicate keys)', () => {
    const { log, lines } = capture({ component: 'chat', region: 'r0' });
    const child = log.child({ region: 'r1' }).child({ component: 'bus', room: 'a' });
    child.info('hi', { n: 1 });
    log.info('parent');
    const [c, p] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(c).toMatchObject({ component: 'bus', region: 'r1', room: 'a', n: 1, msg: 'hi' });
    expect(lines[0]!.match(/"region"/g)).toHaveLength(1);
    expect(lines[0]!.match(/"component"/g)).toHaveLength(1);
    expect(p).toEqual({ level: 'info', time: expect.any(String), component: 'chat', region: 'r0', msg: 'parent' });
  });
});

describe('no credential in a log line', () => {
  it('censors credential fields at any depth, in fields and in bindings, without touching the caller objects', () => {
    const { log, lines, parsed } = capture({ natsPassword: SECRET, smtp: { host: 'mail', password: SECRET } });
    const fields = {
      password: SECRET,
      CHAT_SMTP_PASSWORD: SECRET,
      headers: { authorization: `Bearer ${SECRET}`, 'set-cookie': SECRET, accept: 'json' },
      settings: { codeSender: { kind: 'webhook', url: 'https://hooks.example/x', key: SECRET, webhook: { signingKey: SECRET } } },
      peers: [{ name: 'n2', apiKey: SECRET }],
      login: { code: '123456', codeHash: SECRET, otpExpiresAt: 'x' },
      deep: { a: { b: { c: { d: { e: { accessToken: SECRET } } } } } },
    };
    log.child({ token: SECRET }).info('settings', fields);
    expect(lines.join('\n')).not.toContain(SECRET);
    expect(lines.join('\n')).not.toContain('123456');
    expect(parsed()[0]).toMatchObject({
      natsPassword: '[REDACTED]',
      smtp: { host: 'mail', password: '[REDACTED]' },
      token: '[REDACTED]',
      password: '[REDACTED]',
      CHAT_SMTP_PASSWORD: '[REDACTED]',
      headers: { authorization: '[REDACTED]', 'set-cookie': '[REDACTED]', accept: 'json' },
      settings: { codeSender: { kind: 'webhook', url: 'https://hooks.example/x', key: '[REDACTED]', webhook: { signingKey: '[REDACTED]' } } },
      peers: [{ name: 'n2', apiKey: '[REDACTED]' }],
      login: { code: '[REDACTED]', codeHash: '[REDACTED]' },
      deep: { a: { b: { c: { d: { e: { accessToken: '[REDACTED]' } } } } } },
    });
    expect(fields.password).toBe(SECRET);
    expect(fields.headers.authorization).toBe(`Bearer ${SECRET}`);
  });

  it('pino redact paths alone censor the known names (top level, and one level down for the main ones)', () => {
    const lines: string[] = [];
    const p = pino({ base: null, redact: { paths: [...REDACT_PATHS], censor: '[REDACTED]' } }, { write: (s: string) => void lines.push(s) });
    p.info({ PGPASSWORD: SECRET, 'set-cookie': SECRET, headers: { authorization: SECRET, cookie: SECRET }, smtp: { password: SECRET }, user: 'u' }, 'x');
    expect(JSON.parse(lines[0]!)).toMatchObject({
      PGPASSWORD: '[REDACTED]',
      'set-cookie': '[REDACTED]',
      headers: { authorization: '[REDACTED]', cookie: '[REDACTED]' },
      smtp: { password: '[REDACTED]' },
      user: 'u',
    });
  });

  it('serializes an Error (name, message, code, stack, cause) with the DSN password scrubbed everywhere', () => {
    const { log, lines, parsed } = capture();
    const cause = new Error(`auth failed for nats://chat:${SECRET}@nats-r1:4222`);
    const e = Object.assign(new Error(`connect failed: postgresql://pgedge:${SECRET}@pg-n2/app?sslpassword=${SECRET}&x=1 password='${SECRET} x'`, { cause }), {
      code: 'ECONNREFUSED',
      password: SECRET,
    });
    log.error(`bootstrap failed: host=h password=${SECRET} user=u`, { error: e, attempt: 3, nested: { errors: [new TypeError('bad')] } });
    expect(lines.join('\n')).not.toContain(SECRET);
    const l = parsed()[0]!;
    expect(l['msg']).toBe('bootstrap failed: host=h password=*** user=u');
    const error = l['error'] as Record<string, unknown>;
    expect(error).toMatchObject({
      name: 'Error',
      message: "connect failed: postgresql://pgedge:***@pg-n2/app?sslpassword=***&x=1 password=***",
      code: 'ECONNREFUSED',
      cause: { name: 'Error', message: 'auth failed for nats://chat:***@nats-r1:4222' },
    });
    expect(error['stack']).toMatch(/^Error: connect failed: postgresql:\/\/pgedge:\*\*\*@pg-n2.*\n\s+at /);
    expect(error['stack']).toContain('log.test.ts');
    expect((l['nested'] as { errors: unknown[] }).errors[0]).toMatchObject({ name: 'TypeError', message: 'bad' });
  });

  it('scrubs credentials inside any text', () => {
    expect(scrubText(`postgresql://u:${SECRET}@h:5432/db`)).toBe('postgresql://u:***@h:5432/db');
    expect(scrubText(`host=h PGPASSWORD = "${SECRET} x" user=u`)).toBe('host=h PGPASSWORD = *** user=u');
    expect(scrubText(`{"password":"${SECRET}","user":"u"}`)).toBe('{"password":***,"user":"u"}');
    expect(scrubText(`Authorization: Bearer ${SECRET}`)).not.toContain(SECRET);
    expect(scrubText(`token: ${SECRET}; api_key=${SECRET}`)).toBe('token: ***; api_key=***');
    expect(scrubText('535 5.7.8 rejected: AUTH PLAIN AGNoYXQAaHVudGVyMg==')).toBe('535 5.7.8 rejected: AUTH PLAIN ***');
    expect(scrubText('http://host:8080/path@x and a plain sentence: 3 rooms')).toBe('http://host:8080/path@x and a plain sentence: 3 rooms');
  });

  it('handles cycles, BigInt, Dates, Maps and Sets without throwing', () => {
    const { log, parsed } = capture();
    const loop: Record<string, unknown> = { name: 'a' };
    loop['self'] = loop;
    log.info('odd values', { loop, big: 10n, when: new Date(0), map: new Map([['password', SECRET]]), set: new Set([1]) });
    expect(parsed()[0]).toMatchObject({
      loop: { name: 'a', self: '[circular]' },
      big: '10',
      when: '1970-01-01T00:00:00.000Z',
      map: { password: '[REDACTED]' },
      set: [1],
    });
  });
});

describe('stdout', () => {
  it('is written synchronously: a process that logs 5,000 lines and exits at once loses none', () => {
    const logModule = fileURLToPath(new URL('./log.ts', import.meta.url));
    const script = `
      import { createLogger } from ${JSON.stringify(logModule)};
      const log = createLogger({ component: 'exit-test' }, { level: 'info' });
      const pad = 'x'.repeat(200);
      for (let i = 0; i < 5000; i++) log.info('line', { i, pad, password: 'p' });
      process.exit(3);`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(3);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(5000);
    expect(lines.map((l) => (JSON.parse(l) as { i: number }).i)).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    expect(r.stdout).not.toContain('"password":"p"');
  }, 60_000);
});
