// An HTTP client for the black-box tests: fetch with a cookie jar, a bearer
// token, the CSRF token of the last HTML form seen, and helpers for the
// responses' common shapes (problem+json, security headers).
import assert from 'node:assert/strict';

/** Decodes the HTML entities the template engine emits in attribute values. */
export function htmlUnescape(s) {
	return s
		.replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16)))
		.replace(/&#([0-9]+);/g, (_, d) => String.fromCodePoint(parseInt(d, 10)))
		.replace(/&quot;/g, '"')
		.replace(/&#39;|&apos;/g, "'")
		.replace(/&lt;/g, '<')
		.replace(/&gt;/g, '>')
		.replace(/&amp;/g, '&');
}

/** The value of the first <input name="NAME" value="…"> in html, or null. */
export function inputValue(html, name) {
	const re = /<input\b[^>]*>/gi;
	let m;
	while ((m = re.exec(html))) {
		const tag = m[0];
		const n = /\bname\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i.exec(tag);
		if (!n || (n[1] ?? n[2] ?? n[3]) !== name) continue;
		const v = /\bvalue\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i.exec(tag);
		return v ? htmlUnescape(v[1] ?? v[2] ?? v[3]) : '';
	}
	return null;
}

/** Every form's action attribute in html. */
export function formActions(html) {
	return [...html.matchAll(/<form\b[^>]*\baction\s*=\s*"([^"]*)"/gi)].map((m) => htmlUnescape(m[1]));
}

export class Client {
	constructor(base, { token } = {}) {
		this.base = base;
		this.token = token ?? null;
		this.cookies = new Map();
		this.csrf = null;
	}

	cookieHeader() {
		return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
	}

	setCookie(name, value) {
		if (value === null) this.cookies.delete(name);
		else this.cookies.set(name, value);
	}

	/** Remembers Set-Cookie headers; returns the raw header strings. */
	absorbCookies(res) {
		const list = res.headers.getSetCookie ? res.headers.getSetCookie() : [];
		for (const sc of list) {
			const [pair, ...attrs] = sc.split(';');
			const eq = pair.indexOf('=');
			if (eq < 0) continue;
			const name = pair.slice(0, eq).trim();
			const value = pair.slice(eq + 1).trim();
			const gone = attrs.some((a) => {
				const [k, v] = a.split('=').map((x) => x?.trim());
				if (/^max-age$/i.test(k)) return Number(v) <= 0;
				if (/^expires$/i.test(k)) return Date.parse(v) < Date.now();
				return false;
			});
			if (gone || value === '') this.cookies.delete(name);
			else this.cookies.set(name, value);
		}
		return list;
	}

	/**
	 * One request. opts: {json, form (object or URLSearchParams or array of
	 * pairs), body, headers, accept, noAuth}. Never follows redirects.
	 * Returns {status, headers, text, json(), setCookies, res}.
	 */
	async request(method, path, opts = {}) {
		const headers = { ...(opts.headers ?? {}) };
		let body = opts.body;
		if (opts.json !== undefined) {
			body = typeof opts.json === 'string' ? opts.json : JSON.stringify(opts.json);
			headers['content-type'] ??= 'application/json';
		} else if (opts.form !== undefined) {
			const p = opts.form instanceof URLSearchParams ? opts.form : new URLSearchParams(opts.form);
			body = p.toString();
			headers['content-type'] ??= 'application/x-www-form-urlencoded';
		}
		if (opts.accept) headers.accept = opts.accept;
		if (!opts.noAuth) {
			if (this.token && !('authorization' in headers)) headers.authorization = `Bearer ${this.token}`;
			if (this.cookies.size && !('cookie' in headers)) headers.cookie = this.cookieHeader();
		}
		const res = await fetch(this.base + path, {
			method,
			headers,
			body,
			redirect: 'manual',
			signal: AbortSignal.timeout(opts.timeout ?? 30_000),
		});
		const setCookies = this.absorbCookies(res);
		const buf = Buffer.from(await res.arrayBuffer());
		const text = buf.toString('utf8');
		const out = {
			status: res.status,
			headers: res.headers,
			text,
			bytes: buf,
			setCookies,
			res,
			json() {
				try {
					return JSON.parse(text);
				} catch (e) {
					throw new Error(`${method} ${path} → ${res.status}: body is not JSON: ${text.slice(0, 300)}`);
				}
			},
			toString() {
				return `${method} ${path} → ${res.status} ${res.headers.get('content-type')}: ${text.slice(0, 500)}`;
			},
		};
		if (/text\/html/.test(res.headers.get('content-type') ?? '')) {
			const c = inputValue(text, 'csrf');
			if (c) this.csrf = c;
		}
		return out;
	}

	get(path, opts) {
		return this.request('GET', path, opts);
	}
	post(path, opts) {
		return this.request('POST', path, opts);
	}
	put(path, opts) {
		return this.request('PUT', path, opts);
	}
	/** GET of an HTML page (Accept: text/html). */
	page(path, opts = {}) {
		return this.request('GET', path, { accept: 'text/html', ...opts });
	}
	/** POST of an HTML form with the CSRF token of the last page (unless form has csrf). */
	submit(path, form = {}, opts = {}) {
		const f = { ...form };
		if (!('csrf' in f) && this.csrf) f.csrf = this.csrf;
		if (f.csrf === undefined) delete f.csrf;
		return this.request('POST', path, { accept: 'text/html', form: f, ...opts });
	}

	/** JSON API log-in; on 200 the session cookie is in the jar. */
	async apiLogin(lg, login, password, extra = {}) {
		return await this.post('/api/v1/auth/login', {
			json: { lg_code: lg, login, password, ...extra },
		});
	}

	/** API log-in that must succeed. Returns the response. */
	async mustLogin(lg, user) {
		const r = await this.apiLogin(lg, user.login, user.password);
		assert.equal(r.status, 200, `log-in of ${lg}/${user.login}: ${r}`);
		assert.ok(this.cookies.has('mado_session'), `log-in of ${lg}/${user.login} set no mado_session cookie`);
		return r;
	}

	/** The HTML form log-in: GET /login (for the form's hidden fields), POST /login. */
	async formLogin(lg, login, password, { totp = '', next } = {}) {
		const p = await this.page(next ? `/login?next=${encodeURIComponent(next)}` : '/login');
		assert.equal(p.status, 200, `GET /login: ${p}`);
		const form = { lg_code: lg, login, password, totp };
		const n = inputValue(p.text, 'next');
		if (n !== null) form.next = n;
		const c = inputValue(p.text, 'csrf');
		if (c !== null) form.csrf = c;
		return await this.request('POST', '/login', { accept: 'text/html', form });
	}

	/** GET /api/v1/me that must succeed; returns its JSON. */
	async me() {
		const r = await this.get('/api/v1/me');
		assert.equal(r.status, 200, `GET /api/v1/me: ${r}`);
		return r.json();
	}
}

/** Asserts an RFC 9457 problem document with the given status. Returns it. */
export function assertProblem(r, status) {
	assert.equal(r.status, status, `want ${status}: ${r}`);
	const ct = r.headers.get('content-type') ?? '';
	assert.match(ct, /^application\/problem\+json\b/, `content type of ${r}`);
	const p = r.json();
	assert.equal(typeof p, 'object');
	assert.equal(typeof p.type, 'string', `problem.type in ${r}`);
	assert.equal(typeof p.title, 'string', `problem.title in ${r}`);
	assert.ok(p.title.length > 0, `problem.title empty in ${r}`);
	assert.equal(p.status, status, `problem.status in ${r}`);
	// RFC 9457: every member is optional; title is what people read here.
	if ('detail' in p) assert.equal(typeof p.detail, 'string', `problem.detail in ${r}`);
	if ('instance' in p) assert.equal(typeof p.instance, 'string');
	if ('errors' in p) {
		assert.equal(typeof p.errors, 'object');
		for (const v of Object.values(p.errors)) assert.equal(typeof v, 'string');
	}
	return p;
}

/** Parses a Content-Security-Policy value into {directive: [values]}. */
export function parseCsp(v) {
	const out = {};
	for (const part of (v ?? '').split(';')) {
		const [name, ...vals] = part.trim().split(/\s+/);
		if (name) out[name.toLowerCase()] = vals;
	}
	return out;
}

/** Asserts the headers every response must carry (over plain HTTP). */
export function assertSecurityHeaders(r) {
	const h = r.headers;
	const what = `${r}`.slice(0, 200);
	const csp = parseCsp(h.get('content-security-policy'));
	assert.deepEqual(csp['default-src'], ["'self'"], `CSP default-src: ${what}`);
	assert.deepEqual(csp['script-src'], ["'none'"], `CSP script-src: ${what}`);
	assert.deepEqual(csp['object-src'], ["'none'"], `CSP object-src: ${what}`);
	assert.deepEqual(csp['base-uri'], ["'none'"], `CSP base-uri: ${what}`);
	assert.deepEqual(csp['form-action'], ["'self'"], `CSP form-action: ${what}`);
	assert.deepEqual(csp['frame-ancestors'], ["'none'"], `CSP frame-ancestors: ${what}`);
	assert.equal(h.get('x-content-type-options'), 'nosniff', `nosniff: ${what}`);
	assert.match(h.get('referrer-policy') ?? '', /^(same-origin|no-referrer)$/, `Referrer-Policy: ${what}`);
	assert.equal(h.get('strict-transport-security'), null, `no HSTS over plain HTTP: ${what}`);
	assert.match(h.get('x-request-id') ?? '', /^[A-Za-z0-9._-]{8,64}$/, `X-Request-Id: ${what}`);
}

/** Attributes of the Set-Cookie header for cookie `name`, or null. */
export function cookieAttrs(setCookies, name) {
	for (const sc of setCookies) {
		const [pair, ...attrs] = sc.split(';');
		if (pair.split('=')[0].trim() !== name) continue;
		const out = { value: pair.slice(pair.indexOf('=') + 1).trim() };
		for (const a of attrs) {
			const i = a.indexOf('=');
			const k = (i < 0 ? a : a.slice(0, i)).trim().toLowerCase();
			out[k] = i < 0 ? true : a.slice(i + 1).trim();
		}
		return out;
	}
	return null;
}

/** Items of a list answer that is either an array or {items:[…]}. */
export function items(j) {
	if (Array.isArray(j)) return j;
	for (const k of ['items', 'users', 'jobs', 'municipalities', 'data']) if (Array.isArray(j?.[k])) return j[k];
	throw new Error(`not a list: ${JSON.stringify(j).slice(0, 300)}`);
}
