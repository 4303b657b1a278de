// The resident record (住民記録) over HTTP: the staff console's search and
// detail pages, わたしの情報, and the JSON API with once-only prefill. Every
// read needs a purpose and ends up in the resident's access log; staff of
// another municipality get 404 (existence is never revealed); My Number is
// only ever shown masked; hostile input gets 400, never 500.
//
// Residents are loaded with `madoguchi resident import` from a CSV whose
// check digits are computed in JS (tests/http/lib/residents.mjs); the last
// case exports them with `--header ja` and imports that file again.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { useServer } from './lib/suite.mjs';
import { A, B, sql } from './lib/server.mjs';
import { assertProblem, htmlUnescape, inputValue, items } from './lib/client.mjs';
import { HANAKO, ICHIRO, TARO, JIRO_B, importResidents, linkResident, withAtenaCheck } from './lib/residents.mjs';

const ALL_MYNUMBERS = [HANAKO, ICHIRO, TARO, JIRO_B].map((p) => p.mynumber);
const masked = (mn) => '********' + mn.slice(-4);

/** Fails when any full My Number appears anywhere in the response. */
function assertNoMyNumber(r, what) {
	for (const mn of ALL_MYNUMBERS) assert.ok(!r.text.includes(mn), `${what} shows a full My Number: ${r}`);
}

/** Fails on a 5xx. */
function assertNot5xx(r, what) {
	assert.ok(r.status < 500, `${what}: ${r}`);
}

const P = encodeURIComponent('証明書の発行');
/** digits as MATHEMATICAL BOLD DIGIT (U+1D7CE…) and as circled digits (⓪①…⑨). */
const mathBold = (d) => [...d].map((x) => String.fromCodePoint(0x1d7ce + Number(x))).join('');
const circled = (d) => [...d].map((x) => (x === '0' ? '⓪' : String.fromCodePoint(0x245f + Number(x)))).join('');

describe('resident record: console, portal and API', () => {
	const ctx = useServer({
		prepare: async (data) => {
			await importResidents(data, A.lg, [HANAKO, ICHIRO, TARO]);
			await importResidents(data, B.lg, [JIRO_B]);
			return [];
		},
	});
	const c = {};
	let clerkName;

	before(async () => {
		await linkResident(ctx.srv, A.lg, A.resident.login, HANAKO.juminhyo_code);
		for (const [name, lg, u] of [
			['clerk', A.lg, A.clerk],
			['admin', A.lg, A.admin],
			['resident', A.lg, A.resident],
			['bClerk', B.lg, B.clerk],
			['bResident', B.lg, B.resident],
		]) {
			c[name] = ctx.client();
			const login = await c[name].mustLogin(lg, u);
			// a cookie-authenticated read of personal data sends the session's
			// CSRF token (X-CSRF-Token), as the API's own clients do
			const token = login.json().csrf;
			assert.ok(token, 'the log-in answers the CSRF token');
			const get = c[name].get.bind(c[name]);
			c[name].get = (p, o = {}) => get(p, { ...o, headers: { 'x-csrf-token': token, ...(o.headers ?? {}) } });
			c[name].rawGet = get;
		}
		clerkName = (await c.clerk.me()).display;
	});

	it('a clerk searches by name, kana, birth date (ISO and 和暦) and number', async () => {
		let r = await c.clerk.get(`/api/v1/residents?q=${encodeURIComponent('和歌山')}&purpose=${P}`);
		assert.equal(r.status, 200, `${r}`);
		const names = items(r.json()).map((x) => x.name).sort();
		assert.deepEqual(names, [HANAKO.name, ICHIRO.name].sort());
		assertNoMyNumber(r, 'search');

		for (const q of ['ワカヤマ ハナコ', 'わかやま はなこ', 'ﾜｶﾔﾏ ﾊﾅｺ']) {
			r = await c.clerk.get(`/api/v1/residents?q=${encodeURIComponent(q)}&purpose=${P}`);
			assert.equal(r.status, 200, `${q}: ${r}`);
			assert.deepEqual(items(r.json()).map((x) => x.juminhyo_code), [HANAKO.juminhyo_code], q);
		}
		for (const birth of ['1985-04-01', '昭和60年4月1日', 'S60.4.1']) {
			r = await c.clerk.get(`/api/v1/residents?birth=${encodeURIComponent(birth)}&purpose=${P}`);
			assert.equal(r.status, 200, `${birth}: ${r}`);
			assert.deepEqual(items(r.json()).map((x) => x.name), [HANAKO.name], birth);
		}
		for (const q of [TARO.juminhyo_code, TARO.atena_no]) {
			r = await c.clerk.get(`/api/v1/residents?q=${q}&purpose=${P}`);
			assert.equal(r.status, 200, `${q}: ${r}`);
			assert.deepEqual(items(r.json()).map((x) => x.name), [TARO.name], q);
		}
	});

	it('a My Number search is refused in a URL and works as a POST, answering without the number', async () => {
		const g = await c.clerk.get(`/api/v1/residents?q=${HANAKO.mynumber}&purpose=${P}`);
		assertProblem(g, 400);
		// written in digits that fold (NFKC) to ASCII ones: refused alike, not echoed
		for (const q of [mathBold(HANAKO.mynumber), circled(HANAKO.mynumber), `山田${mathBold(HANAKO.mynumber)}`]) {
			const r = await c.clerk.get(`/api/v1/residents?q=${encodeURIComponent(q)}&purpose=${P}`);
			assertProblem(r, 400);
			assert.ok(!r.text.includes(q) && !r.text.includes(HANAKO.mynumber), `${q} echoed: ${r}`);
		}
		const bold = await c.clerk.post('/api/v1/residents/search', { json: { q: mathBold(HANAKO.mynumber), purpose: '証明書の発行' } });
		assert.equal(bold.status, 200, `${bold}`);
		assert.deepEqual(items(bold.json()).map((x) => x.juminhyo_code), [HANAKO.juminhyo_code]);
		const r = await c.clerk.post('/api/v1/residents/search', { json: { q: HANAKO.mynumber, purpose: '証明書の発行' } });
		assert.equal(r.status, 200, `${r}`);
		assert.deepEqual(items(r.json()).map((x) => x.juminhyo_code), [HANAKO.juminhyo_code]);
		assertNoMyNumber(r, 'POST search');
		const none = await c.clerk.post('/api/v1/residents/search', { json: { q: '000000000000', purpose: '証明書の発行' } });
		assert.equal(none.status, 200, `${none}`);
		assert.equal(items(none.json()).length, 0);
	});

	it('a clerk reads one resident as of today and as of a past date, My Number masked', async () => {
		const r = await c.clerk.get(`/api/v1/residents/${HANAKO.juminhyo_code}?purpose=${P}`);
		assert.equal(r.status, 200, `${r}`);
		const rec = r.json();
		assert.equal(rec.name, HANAKO.name);
		assert.equal(rec.birth, HANAKO.birth);
		assert.equal(rec.setai_no, HANAKO.setai_no);
		assert.equal(rec.mynumber_masked, masked(HANAKO.mynumber));
		assert.equal(rec.mynumber, undefined);
		assertNoMyNumber(r, 'GET resident');

		const past = await c.clerk.get(`/api/v1/residents/${HANAKO.juminhyo_code}?purpose=${P}&as_of=${encodeURIComponent('令和2年1月1日')}`);
		assert.equal(past.status, 200, `${past}`);
		assert.equal(past.json().name, HANAKO.name);
		// before she moved in there is nothing to show
		const before = await c.clerk.get(`/api/v1/residents/${HANAKO.juminhyo_code}?purpose=${P}&as_of=2009-01-01`);
		assertProblem(before, 404);
	});

	it('every read needs a purpose: 400 problem with a Japanese detail', async () => {
		for (const p of [
			`/api/v1/residents?q=${encodeURIComponent('和歌山')}`,
			`/api/v1/residents/${HANAKO.juminhyo_code}`,
			`/api/v1/residents/${HANAKO.juminhyo_code}?purpose=`,
			`/api/v1/residents/${HANAKO.juminhyo_code}/history`,
			`/api/v1/residents/${HANAKO.juminhyo_code}/prefill`,
			`/api/v1/residents/${HANAKO.juminhyo_code}/household`,
		]) {
			const prob = assertProblem(await c.clerk.get(p), 400);
			assert.match(`${prob.title} ${prob.detail ?? ''}`, /利用目的/, p);
		}
		assertProblem(await c.resident.get('/api/v1/me/prefill'), 400);
		const post = await c.clerk.post('/api/v1/residents/search', { json: { q: '和歌山' } });
		assertProblem(post, 400);
	});

	it('a clerk records a 転居; the history and as-of reads show both addresses', async () => {
		const newAddr = '和歌山県和歌山市一番丁12番地';
		const ev = await c.clerk.post(`/api/v1/residents/${TARO.juminhyo_code}/events`, {
			json: { event: 'tenkyo', date: '令和6年4月1日', notified: '2024-04-05', address: newAddr },
		});
		assert.equal(ev.status, 201, `${ev}`);
		const h = await c.clerk.get(`/api/v1/residents/${TARO.juminhyo_code}/history?purpose=${P}`);
		assert.equal(h.status, 200, `${h}`);
		const versions = items(h.json());
		assert.equal(versions.length, 2, JSON.stringify(versions));
		assert.equal(versions[1].event, 'tenkyo');
		assert.equal(versions[1].event_ja, '転居');
		assert.equal(versions[1].valid_from, '2024-04-01');
		assert.equal(versions[1].address, newAddr);
		assert.equal(versions[0].address, TARO.address);
		const then = await c.clerk.get(`/api/v1/residents/${TARO.juminhyo_code}?purpose=${P}&as_of=2024-03-31`);
		assert.equal(then.json().address, TARO.address);
		const now = await c.clerk.get(`/api/v1/residents/${TARO.juminhyo_code}?purpose=${P}`);
		assert.equal(now.json().address, newAddr);
		// a change dated before the current version is refused, not written
		const early = await c.clerk.post(`/api/v1/residents/${TARO.juminhyo_code}/events`, {
			json: { event: 'tenkyo', date: '2000-01-01', address: '和歌山県和歌山市二番丁1番地' },
		});
		assertProblem(early, 400);
		const bad = await c.clerk.post(`/api/v1/residents/${TARO.juminhyo_code}/events`, { json: { event: 'teleport', date: '2024-05-01' } });
		assertProblem(bad, 400);
		assert.equal(items((await c.clerk.get(`/api/v1/residents/${TARO.juminhyo_code}/history?purpose=${P}`)).json()).length, 2);
	});

	it('the API records only the changes the console offers, each from a state it may follow', async () => {
		// 出生 and 転入 onto an existing, active resident are refused; nothing is written
		const n = items((await c.clerk.get(`/api/v1/residents/${ICHIRO.juminhyo_code}/history?purpose=${P}`)).json()).length;
		for (const event of ['shussei', 'tennyu']) {
			const r = await c.clerk.post(`/api/v1/residents/${ICHIRO.juminhyo_code}/events`, { json: { event, date: '2020-05-01' } });
			const prob = assertProblem(r, 400);
			assert.match(prob.detail, /転入・出生は住民記録の取り込み/, event);
		}
		assert.equal(items((await c.clerk.get(`/api/v1/residents/${ICHIRO.juminhyo_code}/history?purpose=${P}`)).json()).length, n);
	});

	it('personal-data API answers are never cached; a cookie-authenticated read needs X-CSRF-Token', async () => {
		for (const p of [`/api/v1/residents/${HANAKO.juminhyo_code}?purpose=${P}`, `/api/v1/residents?q=${encodeURIComponent('和歌山')}&purpose=${P}`]) {
			const r = await c.clerk.get(p);
			assert.equal(r.status, 200, `${r}`);
			assert.equal(r.headers.get('cache-control'), 'no-store', p);
		}
		const me = await c.resident.get('/api/v1/me/resident');
		assert.equal(me.headers.get('cache-control'), 'no-store');
		// a top-level navigation from another site carries the Lax cookie but no header
		for (const [who, p] of [
			['clerk', `/api/v1/residents/${HANAKO.juminhyo_code}?purpose=${P}`],
			['clerk', `/api/v1/residents/${HANAKO.juminhyo_code}/history?purpose=${P}`],
			['clerk', `/api/v1/residents/${HANAKO.juminhyo_code}/prefill?purpose=${P}`],
			['clerk', `/api/v1/residents/${HANAKO.juminhyo_code}/household?purpose=${P}`],
			['clerk', `/api/v1/residents?q=${encodeURIComponent('和歌山')}&purpose=${P}`],
			['resident', '/api/v1/me/resident'],
			['resident', `/api/v1/me/prefill?purpose=${P}`],
		]) {
			const r = await c[who].rawGet(p);
			assertProblem(r, 403);
			assert.ok(!r.text.includes(HANAKO.name), `${p} leaked`);
			assert.equal(r.headers.get('cache-control'), 'no-store', p);
			const forged = await c[who].rawGet(p, { headers: { 'x-csrf-token': 'forged' } });
			assertProblem(forged, 403);
		}
	});

	it('the resident reads their own record and prefill, masked, with the household', async () => {
		const r = await c.resident.get('/api/v1/me/resident');
		assert.equal(r.status, 200, `${r}`);
		const rec = r.json();
		assert.equal(rec.juminhyo_code, HANAKO.juminhyo_code);
		assert.equal(rec.mynumber_masked, masked(HANAKO.mynumber));
		assert.deepEqual(rec.household.map((m) => m.name).sort(), [HANAKO.name, ICHIRO.name].sort());
		// of the household only names, kana, 続柄 and birth: no numbers, no address, no ids
		for (const m of rec.household) assert.deepEqual(Object.keys(m).sort(), ['birth', 'name', 'name_kana', 'zokugara'], JSON.stringify(m));
		assert.ok(!JSON.stringify(rec.household).includes(ICHIRO.juminhyo_code), 'no 住民票コード of a member');
		assertNoMyNumber(r, '/api/v1/me/resident');

		const pf = await c.resident.get(`/api/v1/me/prefill?purpose=${encodeURIComponent('児童手当の申請')}`);
		assert.equal(pf.status, 200, `${pf}`);
		const body = pf.json();
		assert.equal(body.name, HANAKO.name);
		assert.equal(body.birth, HANAKO.birth);
		assertNoMyNumber(pf, 'prefill');

		const sp = await c.clerk.get(`/api/v1/residents/${HANAKO.juminhyo_code}/prefill?purpose=${P}`);
		assert.equal(sp.status, 200, `${sp}`);
		assert.equal(sp.json().name, HANAKO.name);
		assertNoMyNumber(sp, 'staff prefill');
	});

	it('a resident cannot read anyone else, nor use the staff routes', async () => {
		for (const p of [
			`/api/v1/residents/${TARO.juminhyo_code}?purpose=${P}`,
			`/api/v1/residents/${TARO.juminhyo_code}/history?purpose=${P}`,
			`/api/v1/residents/${TARO.juminhyo_code}/prefill?purpose=${P}`,
			`/api/v1/residents/${TARO.juminhyo_code}/household?purpose=${P}`,
			`/api/v1/residents?q=${encodeURIComponent('紀ノ川')}&purpose=${P}`,
		]) {
			const r = await c.resident.get(p);
			assert.ok(r.status === 403 || r.status === 404, `${p}: ${r}`);
			assert.ok(!r.text.includes(TARO.name), `${p} leaked`);
		}
		const page = await c.resident.page('/staff/residents');
		assert.equal(page.status, 403);
		// a staff account has no own record (and no self.read)
		assert.equal((await c.clerk.get('/api/v1/me/resident')).status, 403);
		// the system administrator does not read resident records
		assertProblem(await c.admin.get(`/api/v1/residents/${TARO.juminhyo_code}?purpose=${P}`), 403);
		// a resident without a linked record gets a friendly 404
		const nb = await c.bResident.get('/api/v1/me/resident');
		assertProblem(nb, 404);
	});

	it('another municipality\'s clerk gets 404 for 和歌山市\'s residents, whatever the route', async () => {
		for (const p of [
			`/api/v1/residents/${HANAKO.juminhyo_code}?purpose=${P}`,
			`/api/v1/residents/${HANAKO.juminhyo_code}/history?purpose=${P}`,
			`/api/v1/residents/${HANAKO.juminhyo_code}/prefill?purpose=${P}`,
			`/api/v1/residents/${HANAKO.juminhyo_code}/household?purpose=${P}`,
		]) {
			const r = await c.bClerk.get(p);
			assertProblem(r, 404);
			assert.ok(!r.text.includes(HANAKO.name));
		}
		const s = await c.bClerk.get(`/api/v1/residents?q=${encodeURIComponent('和歌山')}&purpose=${P}`);
		assert.equal(s.status, 200, `${s}`);
		assert.equal(items(s.json()).length, 0);
		const mn = await c.bClerk.post('/api/v1/residents/search', { json: { q: HANAKO.mynumber, purpose: '証明書の発行' } });
		assert.equal(items(mn.json()).length, 0);
		const ev = await c.bClerk.post(`/api/v1/residents/${HANAKO.juminhyo_code}/events`, { json: { event: 'tenkyo', date: '2025-01-01', address: '和歌山県海南市日方1番地' } });
		assertProblem(ev, 404);
		// positive control: B's clerk does see B's resident
		const own = await c.bClerk.get(`/api/v1/residents/${JIRO_B.juminhyo_code}?purpose=${P}`);
		assert.equal(own.status, 200, `${own}`);
		const page = ctx.client();
		await page.formLogin(B.lg, B.clerk.login, B.clerk.password);
		const f = await page.page(`/staff/residents/${HANAKO.juminhyo_code}`);
		const go = await page.submit(`/staff/residents/${HANAKO.juminhyo_code}`, { csrf: inputValue(f.text, 'csrf'), purpose: 'certificate' });
		assert.equal(go.status, 303, `${go}`);
		const html = await page.page(go.headers.get('location'));
		assert.equal(html.status, 404);
		assert.ok(!html.text.includes(HANAKO.name));
	});

	it('the resident\'s access log shows the clerk\'s reads with their purpose', async () => {
		const r = await c.resident.get('/api/v1/me/access-log');
		assert.equal(r.status, 200, `${r}`);
		const log = items(r.json());
		const read = log.find((e) => e.actor_name === clerkName && e.action === 'resident.read');
		assert.ok(read, `no clerk read in ${JSON.stringify(log).slice(0, 1500)}`);
		assert.equal(read.purpose, '証明書の発行');
		assert.equal(read.action_ja, '住民記録の閲覧');
		assert.ok(log.some((e) => e.purpose === '児童手当の申請'), 'the prefill purpose is listed');
		// entries are newest first
		for (let i = 1; i < log.length; i++) assert.ok(log[i - 1].seq > log[i].seq);
		assertNoMyNumber(r, 'access log');
		const html = await c.resident.page('/me/history');
		assert.equal(html.status, 200);
		assert.ok(html.text.includes(clerkName) && html.text.includes('証明書の発行'), 'the page lists the clerk\'s read');
	});

	it('the console pages: search form, results, detail, purpose first, CSRF', async () => {
		const w = ctx.client();
		assert.equal((await w.formLogin(A.lg, A.clerk.login, A.clerk.password)).status, 303);
		const form = await w.page('/staff/residents');
		assert.equal(form.status, 200, `${form}`);
		assert.match(form.text, /利用目的/);
		const csrf = inputValue(form.text, 'csrf');
		assert.ok(csrf);

		assert.equal((await w.submit('/staff/residents', { csrf: undefined, q: '和歌山', purpose: 'certificate' })).status, 403);
		assert.equal((await w.submit('/staff/residents', { csrf: 'forged', q: '和歌山', purpose: 'certificate' })).status, 403);

		const res = await w.submit('/staff/residents', { csrf, q: '和歌山', purpose: 'certificate' });
		assert.equal(res.status, 200, `${res}`);
		assert.ok(res.text.includes(HANAKO.name) && res.text.includes(ICHIRO.name));
		// each result links to the detail with the purpose and a view token of this session
		const hrefs = [...res.text.matchAll(/href="([^"]*)"/g)].map((m) => htmlUnescape(m[1]));
		const link = hrefs.find((h) => h.startsWith(`/staff/residents/${HANAKO.juminhyo_code}?purpose=certificate&t=`));
		assert.ok(link, `results link to the detail with the purpose and a token: ${hrefs.join(' ')}`);

		const mn = await w.submit('/staff/residents', { csrf, q: HANAKO.mynumber, purpose: 'identity' });
		assert.equal(mn.status, 200, `${mn}`);
		assert.ok(mn.text.includes(HANAKO.name));
		assertNoMyNumber(mn, 'search page by My Number');
		for (const m of mn.text.matchAll(/href="([^"]*)"/g)) assert.ok(!htmlUnescape(m[1]).includes(HANAKO.mynumber));
		const bold = await w.submit('/staff/residents', { csrf, q: mathBold(HANAKO.mynumber), purpose: 'identity' });
		assert.equal(bold.status, 200, `${bold}`);
		assert.ok(bold.text.includes(HANAKO.name), 'a My Number in mathematical bold digits finds her');
		assert.ok(!bold.text.includes(mathBold(HANAKO.mynumber)), 'and is not written back');

		const noPurpose = await w.submit('/staff/residents', { csrf, q: '和歌山' });
		assert.equal(noPurpose.status, 400);
		assert.match(noPurpose.text, /利用目的を選んでください/);
		assert.ok(!noPurpose.text.includes(HANAKO.name));
		const other = await w.submit('/staff/residents', { csrf, q: '和歌山', purpose: 'other' });
		assert.equal(other.status, 400);
		assert.match(other.text, /具体的に入力/);

		const ask = await w.page(`/staff/residents/${HANAKO.juminhyo_code}`);
		assert.equal(ask.status, 200);
		assert.ok(!ask.text.includes(HANAKO.name), 'nothing shown before a purpose');
		assert.match(ask.text, /利用目的/);
		assert.match(ask.text, new RegExp(`<form method="post" action="/staff/residents/${HANAKO.juminhyo_code}"`));

		const d = await w.page(link);
		assert.equal(d.status, 200, `${d}`);
		for (const t of [HANAKO.name, HANAKO.name_kana, ICHIRO.name, masked(HANAKO.mynumber), '昭和60年4月1日', '転入', '異動履歴'])
			assert.ok(d.text.includes(t), `detail shows ${t}`);
		assertNoMyNumber(d, 'detail page');
		// the household member's link carries its own token
		const member = [...d.text.matchAll(/href="([^"]*)"/g)].map((m) => htmlUnescape(m[1])).find((h) => h.startsWith(`/staff/residents/${ICHIRO.juminhyo_code}?`));
		assert.match(member ?? '', /&t=\d+\.[0-9a-f]{32}$/);
		assert.ok((await w.page(member)).text.includes(ICHIRO.name_kana));

		// the 基準日 form posts (with CSRF) and answers 303 to a link with a token
		const asOfPost = await w.submit(`/staff/residents/${HANAKO.juminhyo_code}`, { csrf, purpose: 'certificate', as_of: '平成30年1月1日' });
		assert.equal(asOfPost.status, 303, `${asOfPost}`);
		const asOf = await w.page(asOfPost.headers.get('location'));
		assert.equal(asOf.status, 200, `${asOf}`);
		assert.match(asOf.text, /平成30年1月1日時点/);
		const badAsOf = await w.submit(`/staff/residents/${HANAKO.juminhyo_code}`, { csrf, purpose: 'certificate', as_of: '令和1年4月30日' });
		assert.equal(badAsOf.status, 400);
		assert.match(badAsOf.text, /field-error/);
		assert.ok(!badAsOf.text.includes(HANAKO.name));
		assert.equal((await w.submit(`/staff/residents/${HANAKO.juminhyo_code}`, { csrf: undefined, purpose: 'certificate' })).status, 403);
	});

	it('a link from another site reads nothing and leaves no audit entry (forged reads)', async () => {
		const w = ctx.client();
		await w.formLogin(A.lg, A.clerk.login, A.clerk.password);
		const log = async () => items((await c.resident.get('/api/v1/me/access-log')).json()).length;
		const b0 = await log();
		const before = await log();
		const own = before - b0; // what reading the log itself adds
		// what an attacker can write: the purpose in the URL, no token or a made-up one
		const other = ctx.client();
		await other.formLogin(A.lg, A.clerk.login, A.clerk.password);
		const f = await other.page('/staff/residents');
		const res = await other.submit('/staff/residents', { csrf: inputValue(f.text, 'csrf'), q: '和歌山', purpose: 'certificate' });
		const foreign = htmlUnescape([...res.text.matchAll(/href="([^"]*)"/g)].map((m) => m[1]).find((h) => h.includes(HANAKO.juminhyo_code)));
		for (const p of [
			`/staff/residents/${HANAKO.juminhyo_code}?purpose=certificate`,
			`/staff/residents/${HANAKO.juminhyo_code}?purpose=certificate&t=9999999999.${'0'.repeat(32)}`,
			foreign.replace('purpose=certificate', 'purpose=identity'),
			foreign.replace(HANAKO.juminhyo_code, ICHIRO.juminhyo_code),
			foreign, // another session's link: its token is bound to that session
			`/staff/residents?q=${encodeURIComponent('和歌山')}&purpose=certificate`,
		]) {
			const r = await w.page(p);
			assert.ok(r.status === 200 || r.status === 400, `${p}: ${r}`);
			assert.ok(!r.text.includes(HANAKO.name_kana) && !r.text.includes(HANAKO.name), `${p} showed the record`);
		}
		// a My Number in a GET search, in any digits: 400, not written back
		for (const q of [HANAKO.mynumber, mathBold(HANAKO.mynumber), circled(HANAKO.mynumber)]) {
			const r = await w.page(`/staff/residents?q=${encodeURIComponent(q)}&purpose=certificate`);
			assert.equal(r.status, 400, `${q}: ${r}`);
			assert.ok(!r.text.includes(q) && !r.text.includes(HANAKO.mynumber), `${q} written back`);
		}
		// the other session's search names nobody (no subject): her log has no new read
		assert.equal(await log(), before + own, 'no read of hers was logged');
	});

	it('the console records a change through the form, with CSRF', async () => {
		const w = ctx.client();
		await w.formLogin(A.lg, A.clerk.login, A.clerk.password);
		const f = await w.page(`/staff/residents/${ICHIRO.juminhyo_code}/change`);
		assert.equal(f.status, 200, `${f}`);
		const csrf = inputValue(f.text, 'csrf');
		const path = `/staff/residents/${ICHIRO.juminhyo_code}/change`;
		assert.equal((await w.submit(path, { csrf: undefined, event: 'setai', date: '2025-02-01', zokugara: '孫' })).status, 403);
		const miss = await w.submit(path, { csrf, event: 'tenkyo', date: '2025-02-01' });
		assert.equal(miss.status, 400);
		assert.match(miss.text, /新しい住所/);
		const badDate = await w.submit(path, { csrf, event: 'setai', date: '2025-02-30' });
		assert.equal(badDate.status, 400);
		const ok = await w.submit(path, { csrf, event: 'setai', date: '令和7年2月1日', zokugara: '孫' });
		assert.equal(ok.status, 303, `${ok}`);
		assert.match(ok.headers.get('location'), new RegExp(`^/staff/residents/${ICHIRO.juminhyo_code}\\?`));
		const d = await w.page(ok.headers.get('location'));
		assert.equal(d.status, 200);
		assert.ok(d.text.includes('世帯変更') && d.text.includes('孫'));
	});

	it('わたしの情報 shows the resident\'s own record, or a friendly message', async () => {
		const w = ctx.client();
		await w.formLogin(A.lg, A.resident.login, A.resident.password);
		const me = await w.page('/me');
		assert.ok(me.text.includes('href="/me/info"'), '/me links to わたしの情報');
		const r = await w.page('/me/info');
		assert.equal(r.status, 200, `${r}`);
		for (const t of [HANAKO.name, HANAKO.address, ICHIRO.name, masked(HANAKO.mynumber)]) assert.ok(r.text.includes(t), `shows ${t}`);
		assertNoMyNumber(r, '/me/info');
		assert.ok(!r.text.includes(TARO.name));
		// the household is today's, and the heading says which day that is (和暦)
		assert.match(r.text, /同じ世帯の方（令和\d+年\d+月\d+日現在）/);

		const b = ctx.client();
		await b.formLogin(B.lg, B.resident.login, B.resident.password);
		const nb = await b.page('/me/info');
		assert.equal(nb.status, 200);
		assert.match(nb.text, /まだ住民記録が結び付けられていません/);
	});

	it('hostile input gets 400 with a message, never 500', async () => {
		// long enough for every limit here, short enough for the URL limit of the server
		const long = 'あ'.repeat(300);
		const huge = 'あ'.repeat(5000);
		const cases = [
			`/api/v1/residents?q=${encodeURIComponent(long)}&purpose=${P}`,
			`/api/v1/residents?q=%FF%FE&purpose=${P}`,
			`/api/v1/residents?q=a&purpose=%C3%28`,
			`/api/v1/residents?birth=2024-13-45&purpose=${P}`,
			`/api/v1/residents?birth=${encodeURIComponent('令和1年4月30日')}&purpose=${P}`,
			`/api/v1/residents?birth=${'9'.repeat(2000)}&purpose=${P}`,
			`/api/v1/residents?q=x&limit=100000&purpose=${P}`,
			`/api/v1/residents?q=x&purpose=${encodeURIComponent('目的'.repeat(300))}`,
			`/api/v1/residents?q=x&purpose=${encodeURIComponent('a\nb')}`,
			`/api/v1/residents/abc?purpose=${P}`,
			`/api/v1/residents/${'1'.repeat(300)}?purpose=${P}`,
			`/api/v1/residents/${HANAKO.juminhyo_code}?purpose=${P}&as_of=yesterday`,
			`/api/v1/residents/${HANAKO.juminhyo_code}?purpose=${P}&as_of=%00`,
		];
		for (const p of cases) {
			const r = await c.clerk.get(p);
			assertNot5xx(r, p);
			const prob = assertProblem(r, 400);
			assert.ok(/[ぁ-んァ-ン一-龥]/.test(`${prob.title}${prob.detail ?? ''}`), `Japanese message for ${p}`);
		}
		for (const body of ['{', '[]', JSON.stringify({ q: 5, purpose: '証明書の発行' }), JSON.stringify({ q: huge, purpose: '証明書の発行' })]) {
			const r = await c.clerk.post('/api/v1/residents/search', { json: body });
			assertNot5xx(r, body.slice(0, 20));
			assert.equal(r.status, 400, `${r}`);
		}
		const w = ctx.client();
		await w.formLogin(A.lg, A.clerk.login, A.clerk.password);
		const f = await w.page('/staff/residents');
		const csrf = inputValue(f.text, 'csrf');
		for (const form of [
			{ csrf, q: huge, purpose: 'certificate' },
			{ csrf, birth: '昭和100年1月1日', purpose: 'certificate' },
			{ csrf, q: 'x', purpose: 'no-such-purpose' },
		]) {
			const r = await w.submit('/staff/residents', form);
			assertNot5xx(r, JSON.stringify(form).slice(0, 60));
			assert.equal(r.status, 400, `${r}`);
			assert.match(r.text, /field-error/);
		}
		const raw = await w.request('POST', '/staff/residents', { accept: 'text/html', body: `csrf=${csrf}&q=%FF&purpose=certificate`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
		assert.equal(raw.status, 400);
		const get = await w.page(`/staff/residents?q=${HANAKO.mynumber}&purpose=certificate`);
		assert.equal(get.status, 400, 'a My Number in a GET URL is refused');
		assertNoMyNumber(get, 'GET search page');
	});

	it('the household as of a 基準日: who had joined, left or died by then (API and console)', async () => {
		// a family of its own, so the cases above are not disturbed: 転入 of the
		// parents on 2000-04-01, 出生 of the daughter on 2012-05-05, her 世帯変更 to
		// a household of her own on 2020-04-01, the mother's 死亡 on 2022-08-01
		const S1 = withAtenaCheck('3000010'), S2 = withAtenaCheck('3000011');
		const fam = (n, o) => ({
			juminhyo_code: withAtenaCheck(`10000000${n}`), atena_no: withAtenaCheck(`20000${n}`),
			setai_no: S1, address: '和歌山県和歌山市湊通丁北1丁目1番地', ...o,
		});
		const KOICHI = fam(10, { name: '有田 浩一', name_kana: 'アリダ コウイチ', birth: '1976-01-20', sex: 1, zokugara: '世帯主', event: 'tennyu', moved_in: '2000-04-01' });
		const YUKO = fam(11, { name: '有田 裕子', name_kana: 'アリダ ユウコ', birth: '1974-03-03', sex: 2, zokugara: '妻', event: 'tennyu', moved_in: '2000-04-01' });
		const SAKURA = fam(12, { name: '有田 さくら', name_kana: 'アリダ サクラ', birth: '2012-05-05', sex: 2, zokugara: '子', event: 'shussei', moved_in: '2012-05-05' });
		await importResidents(ctx.srv, A.lg, [KOICHI, YUKO, SAKURA], 'household-family.csv');
		const ev = async (who, json) => {
			const r = await c.clerk.post(`/api/v1/residents/${who.juminhyo_code}/events`, { json });
			assert.equal(r.status, 201, `${r}`);
		};
		await ev(SAKURA, { event: 'setai', date: '2020-04-01', setai_no: S2, zokugara: '世帯主' });
		await ev(YUKO, { event: 'shibou', date: '2022-08-01' });

		const hh = async (who, asOf) => {
			const q = asOf ? `&as_of=${encodeURIComponent(asOf)}` : '';
			const r = await c.clerk.get(`/api/v1/residents/${who.juminhyo_code}/household?purpose=${P}${q}`);
			assert.equal(r.status, 200, `${asOf}: ${r}`);
			assertNoMyNumber(r, 'household');
			return r.json();
		};
		const names = (body) => items(body).map((m) => m.name);
		// head first, then by birth (the wife is older than the head)
		for (const [asOf, want] of [
			['2011-01-01', [KOICHI, YUKO]], // before the daughter was born
			['2012-05-05', [KOICHI, YUKO, SAKURA]], // the day of her 出生
			['平成31年1月1日', [KOICHI, YUKO, SAKURA]],
			['2020-03-31', [KOICHI, YUKO, SAKURA]],
			['2020-04-01', [KOICHI, YUKO]], // she has a household of her own from this day
			['2022-07-31', [KOICHI, YUKO]],
			['2022-08-01', [KOICHI]], // the mother's 死亡
			[null, [KOICHI]], // today
		]) {
			const body = await hh(KOICHI, asOf);
			assert.deepEqual(names(body), want.map((m) => m.name), `as of ${asOf}`);
			assert.equal(body.setai_no, S1);
			assert.equal(body.juminhyo_code, KOICHI.juminhyo_code);
		}
		const old = await hh(KOICHI, '平成31年1月1日');
		assert.equal(old.as_of, '2019-01-01');
		assert.equal(old.as_of_ja, '平成31年1月1日');
		assert.deepEqual(items(old).map((m) => m.zokugara), ['世帯主', '妻', '子']);
		// the daughter: in her parents' household then, heading her own now
		const then = await hh(SAKURA, '2019-01-01');
		assert.equal(then.setai_no, S1);
		assert.deepEqual(names(then), [KOICHI.name, YUKO.name, SAKURA.name]);
		const now = await hh(SAKURA);
		assert.equal(now.setai_no, S2);
		assert.deepEqual(items(now).map((m) => [m.name, m.zokugara]), [[SAKURA.name, '世帯主']]);
		// the deceased mother's household on the day of her death: without her
		assert.deepEqual(names(await hh(YUKO, '2022-08-01')), [KOICHI.name]);
		// before anyone moved in: 404, as for the record itself; bad dates: 400
		assertProblem(await c.clerk.get(`/api/v1/residents/${KOICHI.juminhyo_code}/household?purpose=${P}&as_of=1999-12-31`), 404);
		for (const bad of ['2020-02-30', encodeURIComponent('令和1年4月30日'), 'x'.repeat(300)])
			assertProblem(await c.clerk.get(`/api/v1/residents/${KOICHI.juminhyo_code}/household?purpose=${P}&as_of=${bad}`), 400);
		// each member read is on the member's own access record, with the day
		const log = await sql(ctx.srv, `SELECT subject, detail, purpose FROM audit_log WHERE detail = 'household ${S1} as of 2019-01-01' ORDER BY seq`);
		for (const m of [KOICHI, YUKO, SAKURA])
			assert.ok(log.includes(`resident:${m.juminhyo_code}`), `no entry under ${m.name}: ${log}`);

		// the console: the 基準日 form shows the household of that day, and says so
		const w = ctx.client();
		await w.formLogin(A.lg, A.clerk.login, A.clerk.password);
		const f = await w.page(`/staff/residents/${KOICHI.juminhyo_code}`);
		const csrf = inputValue(f.text, 'csrf');
		const go = await w.submit(`/staff/residents/${KOICHI.juminhyo_code}`, { csrf, purpose: 'certificate', as_of: '平成31年1月1日' });
		assert.equal(go.status, 303, `${go}`);
		const d = await w.page(go.headers.get('location'));
		assert.equal(d.status, 200, `${d}`);
		assert.match(d.text, /<h2 id="household-head">世帯の構成員（平成31年1月1日現在）<\/h2>/);
		for (const m of [YUKO, SAKURA]) assert.ok(d.text.includes(m.name), `the household of 2019 lists ${m.name}`);
		// a member's link keeps the 基準日
		const link = [...d.text.matchAll(/href="([^"]*)"/g)].map((m) => htmlUnescape(m[1])).find((h) => h.startsWith(`/staff/residents/${SAKURA.juminhyo_code}?`));
		assert.match(link ?? '', /[?&]as_of=2019-01-01&/, `link ${link}`);
		const sd = await w.page(link);
		assert.equal(sd.status, 200, `${sd}`);
		assert.match(sd.text, /世帯の構成員（平成31年1月1日現在）/);
		assert.ok(sd.text.includes(KOICHI.name) && sd.text.includes(YUKO.name), 'her household of that day');
		// today: the mother (deceased) and the daughter (left) are not listed
		const today = await w.submit(`/staff/residents/${KOICHI.juminhyo_code}`, { csrf, purpose: 'certificate', as_of: '' });
		const t = await w.page(today.headers.get('location'));
		assert.equal(t.status, 200, `${t}`);
		assert.match(t.text, /<h2 id="household-head">世帯の構成員（(令和|平成)[元0-9]+年[0-9]+月[0-9]+日現在）<\/h2>/);
		for (const m of [YUKO, SAKURA]) assert.ok(!t.text.includes(m.name), `today's household does not list ${m.name}`);
	});

	it('the CLI exports with the Japanese header, and that file imports again', async () => {
		const cli = ctx.srv.cli;
		const en = (await cli(['resident', 'export', '--lg-code', A.lg])).stdout;
		const ja = (await cli(['resident', 'export', '--lg-code', A.lg, '--header', 'ja'])).stdout;
		const head = '住民票コード,宛名番号,世帯番号,氏名,氏名カナ,生年月日,性別,続柄,住所,町字ID,街区ID,住居ID,地番ID,個人番号,異動事由,異動日\r\n';
		assert.ok(ja.startsWith(head), ja.slice(0, 200));
		assert.ok(en.startsWith('juminhyo_code,atena_no,'), en.slice(0, 200));
		assert.equal(ja.slice(head.length), en.slice(en.indexOf('\n') + 1), 'the same rows under either header');
		assert.ok(ja.includes(HANAKO.juminhyo_code));
		const rows = ja.split('\r\n').length - 2;
		const file = path.join(ctx.srv.dataDir, 'export-ja.csv');
		writeFileSync(file, ja);
		const r = await cli(['resident', 'import', '--lg-code', A.lg, file]);
		assert.match(r.stdout, new RegExp(`: UTF-8, 0 residents imported, ${rows} already registered, 0 skipped`), r.stdout);
		const bad = await cli(['resident', 'export', '--lg-code', A.lg, '--header', 'fr'], { expect: 2 });
		assert.match(bad.stderr, /--header takes en or ja/);
	});

	ctx.stopTest();
});
