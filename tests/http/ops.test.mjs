// Operations surface: /healthz, /readyz, /metrics, the headers every response
// carries, request ids, the access log, error shapes for unknown paths and
// methods, the public municipality list, and configuration precedence.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { useServer } from './lib/suite.mjs';
import { A, B, MADO_BIN, freePort, prepareData, run, serveData } from './lib/server.mjs';
import { Client, assertProblem, assertSecurityHeaders, items } from './lib/client.mjs';
import { exchange } from './lib/raw.mjs';

/** Parses Prometheus text exposition: {types: {name: type}, samples: [{name, labels, value}]}. */
function parseMetrics(text) {
	const types = {};
	const samples = [];
	const sampleRe = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$/;
	const labelRe = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/gy;
	for (const line of text.split('\n')) {
		if (line === '') continue;
		if (line.startsWith('#')) {
			const m = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
			if (m) types[m[1]] = m[2];
			else assert.match(line, /^# (HELP \S+ .*|.*)$/, `comment line: ${line}`);
			continue;
		}
		const m = sampleRe.exec(line);
		assert.ok(m, `not a Prometheus sample line: ${JSON.stringify(line)}`);
		const labels = {};
		if (m[3]) {
			labelRe.lastIndex = 0;
			let lm;
			let consumed = 0;
			while ((lm = labelRe.exec(m[3]))) {
				labels[lm[1]] = lm[2];
				consumed = labelRe.lastIndex;
			}
			assert.equal(consumed, m[3].length, `label set of ${line}`);
		}
		const v = m[4];
		assert.ok(/^[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+|Inf|NaN)$/.test(v), `value of ${line}`);
		samples.push({ name: m[1], labels, value: Number(v.replace(/^\+?Inf$/, 'Infinity').replace(/^-Inf$/, '-Infinity')) });
	}
	return { types, samples };
}

describe('operations endpoints', () => {
	const ctx = useServer();

	it('GET /healthz answers {"status":"ok"} as JSON', async () => {
		const r = await ctx.client().get('/healthz');
		assert.equal(r.status, 200, `${r}`);
		assert.match(r.headers.get('content-type'), /^application\/json\b/);
		assert.deepEqual(r.json(), { status: 'ok' });
		assertSecurityHeaders(r);
	});

	it('GET /readyz answers {"status":"ready"} when the database is reachable', async () => {
		const r = await ctx.client().get('/readyz');
		assert.equal(r.status, 200, `${r}`);
		assert.match(r.headers.get('content-type'), /^application\/json\b/);
		assert.equal(r.json().status, 'ready');
	});

	it('GET /metrics is Prometheus text with the platform series', async () => {
		const c = ctx.client();
		for (let i = 0; i < 3; i++) assert.equal((await c.get('/healthz')).status, 200);
		await c.get('/api/v1/does-not-exist');
		const r = await c.get('/metrics');
		assert.equal(r.status, 200, `${r}`);
		assert.match(r.headers.get('content-type'), /^text\/plain;\s*version=0\.0\.4\b/);
		const { types, samples } = parseMetrics(r.text);

		assert.equal(types.mado_http_requests_total, 'counter');
		const health = samples.filter(
			(s) => s.name === 'mado_http_requests_total' && /healthz/.test(s.labels.route ?? '') &&
				s.labels.method === 'GET' && s.labels.status === '200',
		);
		assert.equal(health.length, 1, `one healthz GET 200 series in:\n${r.text}`);
		assert.ok(health[0].value >= 3, `healthz counter ${health[0].value} < 3`);
		for (const s of samples.filter((x) => x.name === 'mado_http_requests_total')) {
			assert.ok('route' in s.labels && 'method' in s.labels && 'status' in s.labels, JSON.stringify(s));
			assert.match(s.labels.status, /^[1-5]\d\d$/);
		}
		// Unknown paths must not create one series per path (cardinality).
		assert.ok(!samples.some((s) => (s.labels.route ?? '').includes('does-not-exist')),
			'the route label of an unknown path is the raw path');

		assert.equal(types.mado_http_request_duration_seconds, 'histogram');
		const buckets = samples.filter((s) => s.name === 'mado_http_request_duration_seconds_bucket');
		assert.ok(buckets.length > 0, 'histogram buckets');
		assert.ok(buckets.some((s) => s.labels.le === '+Inf'), 'le="+Inf" bucket');
		assert.ok(samples.some((s) => s.name === 'mado_http_request_duration_seconds_sum'));
		assert.ok(samples.some((s) => s.name === 'mado_http_request_duration_seconds_count'));
		// Cumulative buckets never decrease within one label set.
		const byKey = new Map();
		for (const b of buckets) {
			const { le, ...rest } = b.labels;
			const k = JSON.stringify(rest);
			if (!byKey.has(k)) byKey.set(k, []);
			byKey.get(k).push([le === '+Inf' ? Infinity : Number(le), b.value]);
		}
		for (const [k, list] of byKey) {
			list.sort((x, y) => x[0] - y[0]);
			for (let i = 1; i < list.length; i++)
				assert.ok(list[i][1] >= list[i - 1][1], `histogram ${k} not cumulative`);
		}

		const pool = samples.filter((s) => s.name === 'mado_db_pool_connections');
		assert.ok(pool.length > 0 && pool.every((s) => typeof s.labels.state === 'string'), 'mado_db_pool_connections{state}');
		const jobs = samples.filter((s) => s.name === 'mado_jobs');
		assert.ok(jobs.length > 0 && jobs.every((s) => typeof s.labels.state === 'string'), 'mado_jobs{state}');
	});

	it('every response carries the security headers and a fresh X-Request-Id', async () => {
		const c = ctx.client();
		const anon = ctx.client();
		await c.mustLogin(A.lg, A.resident);
		const responses = [
			await anon.get('/healthz'),
			await anon.get('/readyz'),
			await anon.get('/metrics'),
			await anon.page('/'),
			await anon.page('/login'),
			await anon.page('/login/cert'),
			await anon.page('/me'), // 303
			await anon.page('/no/such/page'), // 404 html
			await anon.get('/api/v1/no/such/thing'), // 404 problem
			await anon.get('/api/v1/me'), // 401
			await anon.request('DELETE', '/healthz'), // 405
			await anon.apiLogin(A.lg, 'resident', 'wrong password'), // 401
			await anon.get('/api/v1/municipalities'),
			await c.get('/api/v1/me'),
			await c.get('/api/v1/me/access-log'),
			await c.page('/me'),
			await c.page('/me/history'),
			await c.page('/staff'), // 403
		];
		const ids = new Set();
		for (const r of responses) {
			assertSecurityHeaders(r);
			ids.add(r.headers.get('x-request-id'));
		}
		assert.equal(ids.size, responses.length, 'request ids are unique');
	});

	it('HTML responses are Japanese pages; JSON answers are UTF-8 JSON', async () => {
		const r = await ctx.client().page('/');
		assert.equal(r.status, 200);
		assert.match(r.headers.get('content-type'), /^text\/html;\s*charset=utf-8/i);
		assert.match(r.text, /<html[^>]*\blang="ja"/);
		assert.match(r.text, /[\u3040-\u30ff\u4e00-\u9fff]/, 'Japanese text');
		assert.doesNotMatch(r.text, /<script\b/i, 'no scripts at all');
		assert.doesNotMatch(r.text, /\sstyle\s*=/i, 'no inline style attributes (CSP default-src self)');
	});

	it('unknown paths: friendly Japanese page for browsers, problem+json otherwise', async () => {
		const c = ctx.client();
		const html = await c.page('/no/such/page');
		assert.equal(html.status, 404, `${html}`);
		assert.match(html.headers.get('content-type'), /^text\/html/);
		assert.match(html.text, /<html[^>]*\blang="ja"/);
		assert.match(html.text, /[\u3040-\u30ff\u4e00-\u9fff]/);
		assertProblem(await c.get('/no/such/page'), 404);
		assertProblem(await c.get('/api/v1/no/such/thing'), 404);
		assertProblem(await c.get('/api/v1/no/such/thing', { accept: 'application/json' }), 404);
	});

	it('a wrong method is 405 with Allow', async () => {
		const c = ctx.client();
		for (const [method, p, allowed] of [
			['DELETE', '/healthz', 'GET'],
			['POST', '/healthz', 'GET'],
			['PUT', '/api/v1/me', 'GET'],
			['GET', '/api/v1/auth/login', 'POST'],
			['DELETE', '/api/v1/admin/users', 'GET'],
		]) {
			const r = await c.request(method, p, method === 'POST' || method === 'PUT' ? { json: {} } : {});
			assertProblem(r, 405);
			const allow = (r.headers.get('allow') ?? '').split(',').map((x) => x.trim());
			assert.ok(allow.includes(allowed), `${method} ${p}: Allow "${r.headers.get('allow')}" lacks ${allowed}`);
			assert.ok(!allow.includes(method), `${method} ${p}: Allow lists ${method}`);
		}
	});

	it('GET /api/v1/municipalities lists the hosted municipalities', async () => {
		const r = await ctx.client().get('/api/v1/municipalities');
		assert.equal(r.status, 200, `${r}`);
		const list = items(r.json());
		const byCode = Object.fromEntries(list.map((m) => [m.lg_code, m]));
		assert.ok(byCode[A.lg], `${A.lg} in ${r.text}`);
		assert.ok(byCode[B.lg], `${B.lg} in ${r.text}`);
		assert.match(JSON.stringify(byCode[A.lg]), new RegExp(A.name));
		assert.match(JSON.stringify(byCode[B.lg]), new RegExp(B.name));
		assert.equal(list.length, 2);
	});

	it('writes one JSON access-log line per request, without query strings or secrets', async () => {
		const c = ctx.client();
		const secret = 'tok' + 'en-that-must-not-be-logged-4f1c2a';
		const r = await c.get(`/healthz?key=${secret}`, { headers: { authorization: `Bearer ${secret}` } });
		const rid = r.headers.get('x-request-id');
		const bad = await c.apiLogin(A.lg, 'resident', 'password-that-must-not-be-logged');
		assert.equal(bad.status, 401);
		let line;
		for (let i = 0; i < 40 && !line; i++) {
			line = ctx.srv.stdoutLines.find((l) => l.includes(rid));
			if (!line) await sleep(50);
		}
		assert.ok(line, `no access-log line with rid ${rid}`);
		const j = JSON.parse(line);
		for (const k of ['ts', 'rid', 'method', 'path', 'route', 'status', 'bytes', 'dur_ms', 'ip'])
			assert.ok(k in j, `access log field ${k} in ${line}`);
		assert.equal(j.rid, rid);
		assert.equal(j.method, 'GET');
		assert.equal(j.path, '/healthz');
		assert.equal(j.status, 200);
		assert.equal(j.ip, '127.0.0.1');
		assert.equal(typeof j.bytes, 'number');
		assert.equal(typeof j.dur_ms, 'number');
		assert.ok(!Number.isNaN(Date.parse(j.ts)), `ts ${j.ts}`);
		await sleep(200);
		const all = ctx.srv.stdoutLines.join('\n') + ctx.srv.stderrText();
		assert.ok(!all.includes(secret), 'a token or query value reached the logs');
		assert.ok(!all.includes('password-that-must-not-be-logged'), 'a password reached the logs');
		for (const l of ctx.srv.stdoutLines) {
			if (l.startsWith('{') && l.includes('"rid"')) JSON.parse(l); // every access line is JSON
		}
	});

	it('serve --help documents every option', async () => {
		const r = await run(MADO_BIN, ['serve', '--help']);
		assert.equal(r.code, 0, r.stderr);
		const text = r.stdout + r.stderr;
		for (const opt of ['--data-dir', '--port', '--listen', '--db', '--config', '--max-body', '--max-header',
			'--request-timeout', '--session-idle', '--trusted-ca'])
			assert.ok(text.includes(opt), `--help lacks ${opt}`);
	});

	ctx.stopTest();
});

describe('configuration precedence: flags over environment over file', () => {
	let data;
	const body = (n) => JSON.stringify({ lg_code: A.lg, login: 'nobody', password: 'x', pad: 'a'.repeat(n) });

	async function sizeStatus(srv, n) {
		return (await new Client(srv.url).post('/api/v1/auth/login', { json: body(n) })).status;
	}

	it('file, then MADOGUCHI_* environment, then flags', { timeout: 120_000 }, async () => {
		data = await prepareData({ tenantB: false });
		const conf = path.join(data.dataDir, 'madoguchi.conf');
		writeFileSync(conf, '# test configuration\nmax-body = 4000\n\n');

		// The file alone: 4000.
		let srv = await serveData(data, ['--config', conf]);
		try {
			assert.notEqual(await sizeStatus(srv, 3000), 413);
			assert.equal(await sizeStatus(srv, 5000), 413);
		} finally {
			await srv.stop({ keep: true });
		}

		// Environment beats the file: 8000.
		const envData = { ...data, env: { ...data.env, MADOGUCHI_MAX_BODY: '8000' } };
		srv = await serveData(envData, ['--config', conf]);
		try {
			assert.notEqual(await sizeStatus(srv, 6000), 413);
			assert.equal(await sizeStatus(srv, 9000), 413);
		} finally {
			await srv.stop({ keep: true });
		}

		// A flag beats both: 2000.
		srv = await serveData(envData, ['--config', conf, '--max-body', '2000']);
		try {
			assert.notEqual(await sizeStatus(srv, 1000), 413);
			assert.equal(await sizeStatus(srv, 3000), 413);
		} finally {
			await srv.stop();
		}
	});

	it('a bad configuration file is refused with file:line', async () => {
		const d = await prepareData({ tenantB: false });
		const conf = path.join(d.dataDir, 'bad.conf');
		writeFileSync(conf, 'max-body = 4000\nno-such-option = 1\n');
		const port = String(await freePort());
		try {
			const r = await run(MADO_BIN, ['serve', '--data-dir', d.dataDir, '--port', port, '--config', conf, ...d.dbArgs], { env: d.env, timeout: 20_000 });
			assert.notEqual(r.code, 0, 'serve accepted an unknown option');
			assert.match(r.stdout + r.stderr, /bad\.conf:2/);
			const r2 = await run(MADO_BIN, ['serve', '--data-dir', d.dataDir, '--port', 'eighty', ...d.dbArgs], { env: d.env, timeout: 20_000 });
			assert.notEqual(r2.code, 0, 'serve accepted --port eighty');
			const r3 = await run(MADO_BIN, ['serve', '--data-dir', d.dataDir, '--port', port, ...d.dbArgs],
				{ env: { ...d.env, MADOGUCHI_MAX_BODY: 'lots' }, timeout: 20_000 });
			assert.notEqual(r3.code, 0, 'serve accepted MADOGUCHI_MAX_BODY=lots');
		} finally {
			rmSync(d.dataDir, { recursive: true, force: true });
		}
	});
});

describe('raw HTTP/1.1 basics', () => {
	const ctx = useServer({ tenantB: false });

	it('keeps a connection alive for a second request', async () => {
		const req = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
		const last = 'GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n';
		const r = await exchange(ctx.srv.port, [req, { until: 'response' }, last], { timeout: 5000 });
		const text = r.data.toString('latin1');
		const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1]);
		assert.deepEqual(statuses, ['200', '200'], text);
		assert.match(text, /"ready"/);
		assert.ok(r.serverClosed, 'Connection: close was not honoured');
	});

	ctx.stopTest();
});
