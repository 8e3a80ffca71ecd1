/**
 * Mailpit (the lab's SMTP server) with our real smtp sender: a code sent through SMTP is read
 * back through Mailpit's API; STARTTLS is required when the mode says so (a relay without it
 * fails the send); STARTTLS and implicit TLS work with a certificate; Mailpit dies with the
 * process that started it, even on SIGKILL. Holds the lab lock (engines on loopback):
 *   flock /tmp/rm/lab.lock npx vitest run lab/mailpit.test.ts
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NoContactAddress, type CodeRequest } from '../app/chat/code-sender.js';
import { SmtpCodeSender } from '../app/chat/senders/smtp.js';
import type { SmtpSenderSettings } from '../app/chat/settings.js';
import { createLogger } from '../app/log.js';
import { REPO_ROOT } from './install.js';
import { canUsePdeathsig, startMailpit, type MailpitHandle } from './mailpit.js';
import { freePort } from './process.js';

const quiet = createLogger({}, { write: () => undefined });

function request(email: string, code: string): CodeRequest {
  return { username: 'Carol', usernameNorm: 'carol', userId: 'u-carol', email, code, expiresAt: new Date(Date.now() + 300_000) };
}

function smtpSettings(m: MailpitHandle, tls: SmtpSenderSettings['tls']): SmtpSenderSettings {
  return { kind: 'smtp', host: m.smtp.host, port: m.smtp.port, tls, from: 'Chat lab <chat-lab@regionmesh.test>' };
}

/** Running (a zombie waiting for a reaper counts as dead). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('Mailpit with the smtp sender', () => {
  let m: MailpitHandle;
  beforeAll(async () => {
    m = await startMailpit({ smtpPort: await freePort(), httpPort: await freePort() });
  });
  afterAll(async () => {
    await m?.stop();
  });

  it('delivers a login code that the API reads back', async () => {
    const since = new Date();
    const s = new SmtpCodeSender(smtpSettings(m, 'none'), quiet);
    await s.send(request('carol@example.com', '314159'));
    expect(await m.codeFor('carol@example.com', { since, timeoutMs: 5_000 })).toBe('314159');
    const [msg] = await m.messagesTo('carol@example.com');
    expect(msg).toMatchObject({ from: 'chat-lab@regionmesh.test', to: ['carol@example.com'], subject: 'Your Chat login code' });
    expect(await m.textOf(msg!.id)).toContain('It expires in 5 minutes');
    await s.close();
  });

  it('gives the newest code since a time, and only for that exact address', async () => {
    const s = new SmtpCodeSender(smtpSettings(m, 'none'), quiet);
    await s.send(request('dave@example.com', '111111'));
    await sleep(20);
    const since = new Date();
    await s.send(request('dave@example.com', '222222'));
    await s.send(request('x.dave@example.com', '333333'));
    expect(await m.codeFor('dave@example.com', { since })).toBe('222222');
    expect(await m.codeFor('DAVE@example.com')).toBe('222222');
    expect((await m.messagesTo('dave@example.com')).map((x) => x.to)).toEqual([['dave@example.com'], ['dave@example.com']]);
    await s.close();
  });

  it('says what it saw when no code arrives', async () => {
    await expect(m.codeFor('nobody@example.com', { timeoutMs: 300 })).rejects.toThrow(/no login code mail to nobody@example.com within 300 ms \(Mailpit http:\/\/127\.0\.0\.1:\d+ has 0 message\(s\) to it/);
  });

  it('refuses a request without an address before talking to the relay', async () => {
    const s = new SmtpCodeSender(smtpSettings(m, 'none'), quiet);
    const { email: _, ...noEmail } = request('e@example.com', '1');
    await expect(s.send(noEmail)).rejects.toBeInstanceOf(NoContactAddress);
    await s.close();
  });

  it('with starttls, fails on a relay that offers no STARTTLS (never falls back to clear text)', async () => {
    const s = new SmtpCodeSender(smtpSettings(m, 'starttls'), quiet);
    const err = await s.send(request('frank@example.com', '271828')).then(() => undefined, (e: Error) => e);
    await s.close();
    expect(err?.message).toMatch(/did not take the login code mail: .*STARTTLS/i);
    expect(err?.message).not.toContain('271828');
    expect(await m.messagesTo('frank@example.com')).toEqual([]);
  });

  it('clears every message', async () => {
    await m.clear();
    expect(await m.messagesTo('carol@example.com')).toEqual([]);
  });
});

describe('Mailpit with TLS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'regionmesh-mailpit-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  beforeAll(() => {
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl could not make a test certificate: ${r.stderr || r.error?.message}`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const mode of ['starttls', 'implicit'] as const) {
    it(`delivers over ${mode} to a relay whose certificate it trusts, and refuses one it does not`, async () => {
      const m = await startMailpit({ smtpPort: await freePort(), httpPort: await freePort(), tls: { certFile, keyFile, implicit: mode === 'implicit' } });
      try {
        const trusting = new SmtpCodeSender(smtpSettings(m, mode), quiet, { tls: { ca: readFileSync(certFile) } });
        await trusting.send(request(`tls-${mode}@example.com`, '161803'));
        await trusting.close();
        expect(await m.codeFor(`tls-${mode}@example.com`)).toBe('161803');
        const untrusting = new SmtpCodeSender(smtpSettings(m, mode), quiet);
        const err = await untrusting.send(request(`untrusted-${mode}@example.com`, '999999')).then(() => undefined, (e: Error) => e);
        await untrusting.close();
        expect(err?.message).toMatch(/self-signed certificate|certificate/i);
        expect(await m.messagesTo(`untrusted-${mode}@example.com`)).toEqual([]);
      } finally {
        await m.stop();
      }
    });
  }
});

describe('Mailpit dies with its parent', () => {
  it('is killed when the process that started it is SIGKILLed', async () => {
    expect(canUsePdeathsig(), 'setpriv --pdeathsig (util-linux) is needed for this guarantee').toBe(true);
    const [smtpPort, httpPort] = [await freePort(), await freePort()];
    const dir = mkdtempSync(join(tmpdir(), 'regionmesh-mailpit-orphan-'));
    const script = `import { startMailpit } from './lab/mailpit.ts';
const m = await startMailpit({ smtpPort: ${smtpPort}, httpPort: ${httpPort}, dir: ${JSON.stringify(dir)} });
console.log('PID ' + m.pid);
setInterval(() => undefined, 1000);`;
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    const pid = await new Promise<number>((resolve, reject) => {
      let out = '';
      parent.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /PID (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      parent.once('exit', (code) => reject(new Error(`the parent exited (${code}) before Mailpit started: ${out}`)));
    });
    expect(alive(pid)).toBe(true);
    parent.kill('SIGKILL');
    const deadline = Date.now() + 5_000;
    while (alive(pid) && Date.now() < deadline) await sleep(50);
    rmSync(dir, { recursive: true, force: true });
    expect(alive(pid), `mailpit ${pid} outlived its SIGKILLed parent`).toBe(false);
  });
});
