// The corporate number registry end to end: `madoguchi corp generate` writes
// a CP932 file, `madoguchi import corp` reads it (twice, same result; bad rows
// named by FILE:LINE), and the public API answers by number and by name.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { MADO_BIN, prepareData, run, serveData, sql } from './lib/server.mjs';

describe('corporate number registry', () => {
	let data;
	let server;
	const file = () => path.join(data.dataDir, 'hojin.csv');

	before(async () => {
		data = await prepareData({ tenantB: false });
	});
	after(async () => {
		if (server) await server.stop();
	});

	it('imports a generated CP932 file twice with the same result', { timeout: 60_000 }, async () => {
		const g = await run('sh', ['-c', `"${MADO_BIN}" corp generate --count 3000 --seed 5 --encoding cp932 > "${file()}"`]);
		assert.equal(g.code, 0, g.stderr);
		for (let round = 0; round < 2; round++) {
			const r = await data.cli(['import', 'corp', file()]);
			assert.match(r.stdout, /hojin\.csv: CP932, 3000 records imported, 0 skipped/);
		}
	});

	it('names the file and line of a bad row, and refuses bad arguments', async () => {
		const bad = path.join(data.dataDir, 'bad.csv');
		writeFileSync(bad, '1,5835678256247,01,0,2016-04-01,2016-04-01,"株式会社誤り",,301,,,,,,,,,,,,,,,1,,,,,,0\r\n');
		const r = await data.cli(['import', 'corp', bad], { expect: 1 });
		assert.match(r.stderr, /bad\.csv:1: corporateNumber 5835678256247: wrong check digit/);
		const skip = await data.cli(['import', 'corp', '--on-error', 'skip', bad]);
		assert.match(skip.stdout, /0 records imported, 1 skipped/);
		await data.cli(['import', 'corp', '--on-error', 'maybe', bad], { expect: 2 });
		await data.cli(['import', 'corp'], { expect: 2 });
		await data.cli(['corp', 'generate'], { expect: 2 });
		await data.cli(['corp', 'generate', '--count', '3', '--encoding', 'latin1'], { expect: 2 });
	});

	it('answers by number: 200 with history, 400 on a bad check digit, 404 when unknown', async () => {
		server = await serveData(data);
		const num = (await sql(server, "SELECT corporate_number FROM corp WHERE process = '11' LIMIT 1")).trim();
		assert.match(num, /^\d{13}$/);
		let res = await fetch(`${server.url}/api/v1/corporations/${num}`);
		assert.equal(res.status, 200);
		const rec = await res.json();
		assert.equal(rec.corporate_number, num);
		assert.ok(rec.history.length >= 2);
		assert.equal(rec.history.at(-1).name, rec.name);
		const wrong = String((Number(num[0]) % 9) + 1) + num.slice(1);
		res = await fetch(`${server.url}/api/v1/corporations/${wrong}`);
		assert.equal(res.status, 400);
		assert.match(res.headers.get('content-type'), /problem\+json/);
		assert.match((await res.json()).detail, /チェックデジット/);
		res = await fetch(`${server.url}/api/v1/corporations/12345`);
		assert.equal(res.status, 400);
		res = await fetch(`${server.url}/api/v1/corporations/9999999999999`);
		assert.equal(res.status, 404);
	});

	it('searches by name whatever the width and kana', async () => {
		const name = (await sql(server, "SELECT name FROM corp WHERE name LIKE '%梅干%' LIMIT 1")).trim();
		assert.ok(name);
		for (const q of ['ｳﾒﾎﾞｼ', 'うめぼし', '梅干']) {
			const res = await fetch(`${server.url}/api/v1/corporations?name=${encodeURIComponent(q)}`);
			assert.equal(res.status, 200);
			const body = await res.json();
			assert.ok(body.items.length > 0 && body.items.length <= 50, q);
			assert.ok(body.items.every((c) => c.name.includes('梅干')), q);
		}
		const res = await fetch(`${server.url}/api/v1/corporations`);
		assert.equal(res.status, 400);
	});
});
