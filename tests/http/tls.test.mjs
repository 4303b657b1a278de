// HTTPS: with --tls-cert and --tls-key the server speaks TLS, adds
// Strict-Transport-Security to every response and marks cookies Secure.
// The test makes its own self-signed server certificate with the openssl CLI.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, run } from './lib/server.mjs';

function get(url, path) {
	return new Promise((resolve, reject) => {
		const req = https.get(new URL(path, url), { rejectUnauthorized: false, timeout: 10_000 }, (res) => {
			let body = '';
			res.setEncoding('utf8');
			res.on('data', (d) => (body += d));
			res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
		});
		req.on('error', reject);
	});
}

describe('HTTPS', () => {
	const dir = mkdtempSync(join(tmpdir(), 'mado-tls-'));
	let srv;
	after(async () => {
		if (srv) await srv.stop();
		rmSync(dir, { recursive: true, force: true });
	});

	it('serves over TLS with HSTS and Secure cookies', { timeout: 60_000 }, async () => {
		const key = join(dir, 'server.key'), crt = join(dir, 'server.crt');
		const r = await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
			'-nodes', '-keyout', key, '-out', crt, '-days', '2', '-subj', '/CN=127.0.0.1']);
		assert.equal(r.code, 0, r.stderr);
		srv = await startServer({ tenantB: false, args: ['--tls-cert', crt, '--tls-key', key] });
		assert.match(srv.url, /^https:\/\//);
		const health = await get(srv.url, '/healthz');
		assert.equal(health.status, 200);
		assert.match(health.headers['strict-transport-security'] ?? '', /max-age=\d+/);
		const page = await get(srv.url, '/login');
		assert.equal(page.status, 200);
		const cookies = page.headers['set-cookie'] ?? [];
		assert.ok(cookies.length > 0, 'the log-in page sets its pre-session cookie');
		for (const c of cookies) assert.match(c, /;\s*Secure/i, c);
	});
});
