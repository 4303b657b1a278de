// The address normalizer end to end: the ABR files of 和歌山市 and a few
// towns.csv rows are imported through the CLI before the server starts (the
// index is built at the first request), then `madoguchi address normalize`
// and GET/POST /api/v1/address/normalize answer in JSON, NDJSON, CSV and
// GeoJSON; bad requests get a 4xx problem with a Japanese title, never a 500.
// Last, an ABR file imported while the server runs is seen without a restart.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ABR_CITY, prepareData, serveData, sql } from './lib/server.mjs';
import { Client, assertProblem } from './lib/client.mjs';

const ABR_DIR = path.dirname(ABR_CITY);
const FILES = ['mt_pref_all.csv.zip', 'mt_city_all.csv.zip', 'mt_pref_pos_all.csv.zip', 'mt_city_pos_all.csv.zip',
	'mt_town_all.csv.zip', 'mt_town_pos_pref30.csv.zip', 'mt_rsdtdsp_rsdt_pref30.csv.zip',
	'mt_rsdtdsp_rsdt_pos_pref30.csv.zip'];
const TOWNS = 'pref,city,town,koaza,lat,lng\n'
	+ '東京都,千代田区,飯田橋一丁目,,35.69847,139.749414\n'
	+ '京都府,宇治市,莵道,,34.904244,135.827041\n'
	+ '京都府,宇治市,莵道,森本,34.902174,135.807193\n';
const API = '/api/v1/address/normalize';
const JAPANESE = /[\u3040-\u30ff\u4e00-\u9fff]/;
const ADDR = '和歌山県和歌山市松江北２丁目19-25';

function crc32(bytes) {
	let c = ~0;
	for (const b of bytes) {
		c ^= b;
		for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
	}
	return ~c >>> 0;
}

// A zip of one stored (uncompressed) member, UTF-8 name: as much of the
// format as `madoguchi import abr` needs to read a file made here.
function storedZip(name, text) {
	const data = Buffer.from(text, 'utf8');
	const fname = Buffer.from(name, 'utf8');
	const crc = crc32(data);
	const DOS_DATE = 0x21; // 1980-01-01
	const local = Buffer.alloc(30);
	local.writeUInt32LE(0x04034b50, 0);
	local.writeUInt16LE(20, 4);
	local.writeUInt16LE(0x0800, 6); // UTF-8 name
	local.writeUInt16LE(DOS_DATE, 12);
	local.writeUInt32LE(crc, 14);
	local.writeUInt32LE(data.length, 18);
	local.writeUInt32LE(data.length, 22);
	local.writeUInt16LE(fname.length, 26);
	const central = Buffer.alloc(46);
	central.writeUInt32LE(0x02014b50, 0);
	central.writeUInt16LE(20, 4);
	central.writeUInt16LE(20, 6);
	central.writeUInt16LE(0x0800, 8);
	central.writeUInt16LE(DOS_DATE, 14);
	central.writeUInt32LE(crc, 16);
	central.writeUInt32LE(data.length, 20);
	central.writeUInt32LE(data.length, 24);
	central.writeUInt16LE(fname.length, 28);
	const end = Buffer.alloc(22);
	end.writeUInt32LE(0x06054b50, 0);
	end.writeUInt16LE(1, 8);
	end.writeUInt16LE(1, 10);
	end.writeUInt32LE(central.length + fname.length, 12);
	end.writeUInt32LE(local.length + fname.length + data.length, 16);
	return Buffer.concat([local, fname, data, central, fname, end]);
}

describe('address normalizer', () => {
	let data;
	let server;
	let c;
	// 松江北二丁目19番25号 as the registry has it
	let want;

	before(async () => {
		data = await prepareData({ tenantB: false });
		await data.cli(['import', 'abr', ...FILES.map((f) => path.join(ABR_DIR, f))]);
		const towns = path.join(data.dataDir, 'towns.csv');
		writeFileSync(towns, TOWNS);
		const t = await data.cli(['import', 'towns', towns]);
		assert.match(t.stdout, /3 rows imported/);
		const row = (await sql(data, "SELECT t.machiaza_id || '|' || r.blk_id || '|' || r.rsdt_id || '|' || p.rep_lat "
			+ "|| '|' || p.rep_lon FROM abr_town t JOIN abr_rsdt r ON r.lg_code = t.lg_code AND r.machiaza_id = "
			+ 't.machiaza_id JOIN abr_rsdt_pos p ON p.lg_code = r.lg_code AND p.machiaza_id = r.machiaza_id AND '
			+ 'p.blk_id = r.blk_id AND p.rsdt_id = r.rsdt_id AND p.rsdt2_id = r.rsdt2_id WHERE t.lg_code = '
			+ "'302015' AND t.oaza_cho = '松江北' AND t.chome_number = 2 AND r.blk_num = '19' AND r.rsdt_num = '25'")).trim();
		const [machiaza_id, blk_id, rsdt_id, lat, lon] = row.split('|');
		assert.ok(rsdt_id, `no residence 松江北2-19-25 in the registry: ${row}`);
		want = { machiaza_id, blk_id, rsdt_id, lat: Number(lat), lon: Number(lon) };
	});
	after(async () => {
		if (server) await server.stop();
	});

	function checkMatsue(j) {
		assert.equal(j.match_level, 'residential_detail', JSON.stringify(j));
		assert.equal(j.lg_code, '302015');
		assert.equal(j.pref, '和歌山県');
		assert.equal(j.city, '和歌山市');
		assert.equal(j.oaza_cho, '松江北');
		assert.equal(j.blk_num, '19');
		assert.equal(j.rsdt_num, '25');
		assert.equal(j.machiaza_id, want.machiaza_id);
		assert.equal(j.blk_id, want.blk_id);
		assert.equal(j.rsdt_id, want.rsdt_id);
		assert.ok(Math.abs(j.lat - want.lat) < 1e-6 && Math.abs(j.lon - want.lon) < 1e-6, JSON.stringify(j));
		assert.equal(j.coordinate_level, 'residential_detail');
	}

	it('madoguchi address normalize reads standard input, one result per line', async () => {
		const r = await data.cli(['address', 'normalize', '--format', 'ndjson'],
			{ input: `${ADDR}\n宇治市菟道字森本\n\nどこでもない\n` });
		const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
		assert.equal(lines.length, 4);
		checkMatsue(lines[0]);
		assert.equal(lines[0].input, ADDR);
		assert.equal(lines[1].match_level, 'machiaza_detail');
		assert.equal(lines[1].koaza, '森本');
		assert.equal(lines[1].lg_code, (await sql(data, "SELECT lg_code FROM abr_city WHERE pref = '京都府' AND city = '宇治市'")).trim());
		assert.equal(lines[2].match_level, 'unknown');
		assert.equal(lines[3].match_level, 'unknown');
		const csv = await data.cli(['address', 'normalize', '--format', 'csv'], { input: `${ADDR}\n` });
		const rows = csv.stdout.split('\r\n');
		assert.match(rows[0], /^input,/);
		assert.match(rows[1], /^和歌山県和歌山市松江北２丁目19-25,/);
		assert.equal(rows[2], '');
	});

	it('GET ?q= answers one address in JSON', { timeout: 60_000 }, async () => {
		server = await serveData(data);
		c = new Client(server.url);
		const r = await c.get(`${API}?q=${encodeURIComponent(ADDR)}`);
		assert.equal(r.status, 200, String(r));
		assert.match(r.headers.get('content-type'), /^application\/json/);
		const j = r.json();
		assert.equal(j.input, ADDR);
		checkMatsue(j);
		// another way of writing it, with the building after it
		const r2 = await c.get(`${API}?q=${encodeURIComponent('〒640-8156 和歌山市松江北二丁目十九番二十五号 ABCマンション301号室')}`);
		checkMatsue(r2.json());
		assert.match(r2.json().others, /ABCマンション301号室/);
		// towns.csv: the town level, its point, the municipality's code
		const r3 = (await c.get(`${API}?q=${encodeURIComponent('千代田区飯田橋1丁目')}`)).json();
		assert.equal(r3.match_level, 'machiaza_detail');
		assert.equal(r3.lg_code, (await sql(data, "SELECT lg_code FROM abr_city WHERE pref = '東京都' AND city = '千代田区'")).trim());
		assert.ok(Math.abs(r3.lat - 35.69847) < 1e-6);
	});

	it('format=geojson is a Feature, csv a header and a row, ndjson one line', async () => {
		let r = await c.get(`${API}?q=${encodeURIComponent(ADDR)}&format=geojson`);
		assert.equal(r.status, 200);
		assert.match(r.headers.get('content-type'), /^application\/geo\+json/);
		const f = r.json();
		assert.equal(f.type, 'Feature');
		assert.equal(f.geometry.type, 'Point');
		assert.ok(Math.abs(f.geometry.coordinates[0] - want.lon) < 1e-6, 'longitude first');
		assert.ok(Math.abs(f.geometry.coordinates[1] - want.lat) < 1e-6);
		checkMatsue(f.properties);
		r = await c.get(`${API}?q=${encodeURIComponent('どこでもない')}&format=geojson`);
		assert.equal(r.json().geometry, null);

		r = await c.get(`${API}?q=${encodeURIComponent(ADDR)}&format=csv`);
		assert.equal(r.status, 200);
		assert.match(r.headers.get('content-type'), /^text\/csv/);
		const lines = r.text.split('\r\n');
		assert.equal(lines.length, 3);
		const head = lines[0].split(',');
		const row = lines[1].split(',');
		assert.equal(head.length, row.length);
		assert.equal(row[head.indexOf('rsdt_id')], want.rsdt_id);
		assert.equal(row[head.indexOf('match_level')], 'residential_detail');

		r = await c.get(`${API}?q=${encodeURIComponent(ADDR)}&format=ndjson`);
		assert.equal(r.status, 200);
		assert.match(r.headers.get('content-type'), /^application\/x-ndjson/);
		assert.equal(r.text.trim().split('\n').length, 1);
		checkMatsue(JSON.parse(r.text));
	});

	it('a missing, empty or too long q and a bad format are 400 problems in Japanese', async () => {
		for (const q of ['', '?q=', '?format=json', '?q=&format=csv']) {
			const p = assertProblem(await c.get(`${API}${q}`), 400);
			assert.match(p.title, JAPANESE);
		}
		const long = assertProblem(await c.get(`${API}?q=${'a'.repeat(4097)}`), 400);
		assert.match(long.title, JAPANESE);
		// 4096 bytes exactly is allowed
		const max = await c.get(`${API}?q=${'a'.repeat(4096)}`);
		assert.equal(max.status, 200, String(max));
		assert.equal(max.json().match_level, 'unknown');
		for (const fmt of ['xml', 'JSON', '']) {
			const r = await c.get(`${API}?q=${encodeURIComponent(ADDR)}&format=${fmt}`);
			if (fmt === '') {
				assert.equal(r.status, 200); // no format: the default
				continue;
			}
			const p = assertProblem(r, 400);
			assert.match(p.title, JAPANESE);
		}
		assertProblem(await c.post(`${API}?format=xml`, { json: { addresses: [ADDR] } }), 400);
	});

	it('invalid UTF-8 or a NUL in q is a 400 or a result at level error, never a 500', async () => {
		for (const q of ['%FF', '%E5%92%8C%E6', '%C0%AF', '%ED%A0%80', '%E5%92%8C%00%E6%AD%8C', '%']) {
			const r = await c.get(`${API}?q=${q}`);
			assert.ok(r.status === 400 || r.status === 200, String(r));
			if (r.status === 400) assertProblem(r, 400);
			else assert.ok(['error', 'unknown', 'prefecture'].includes(r.json().match_level), String(r));
		}
		const h = await c.get('/healthz');
		assert.equal(h.status, 200);
	});

	const LIST = [ADDR, 'どこでもない', '宇治市莵道森本', '和歌山市松江北2-19-25', ''];
	function checkItems(r) {
		assert.equal(r.status, 200, String(r));
		const items = r.json().items;
		assert.equal(items.length, LIST.length);
		items.forEach((item, i) => assert.equal(item.input, LIST[i]));
		checkMatsue(items[0]);
		assert.equal(items[1].match_level, 'unknown');
		assert.equal(items[2].koaza, '森本');
		checkMatsue(items[3]);
		assert.equal(items[4].match_level, 'unknown');
	}

	it('POST a batch {"addresses": [...]}: results in input order, in every format', async () => {
		checkItems(await c.post(API, { json: { addresses: LIST } }));
		let r = await c.post(`${API}?format=ndjson`, { json: { addresses: LIST } });
		assert.equal(r.status, 200);
		const lines = r.text.trim().split('\n').map((l) => JSON.parse(l));
		assert.deepEqual(lines.map((l) => l.input), LIST);
		r = await c.post(`${API}?format=geojson`, { json: { addresses: LIST } });
		assert.equal(r.status, 200);
		const fc = r.json();
		assert.equal(fc.type, 'FeatureCollection');
		assert.equal(fc.features.length, LIST.length);
		assert.equal(fc.features[0].geometry.type, 'Point');
		assert.equal(fc.features[2].properties.koaza, '森本');
		r = await c.post(`${API}?format=csv`, { json: { addresses: LIST } });
		assert.equal(r.status, 200);
		assert.equal(r.text.split('\r\n').filter((l) => l).length, LIST.length + 1);
	});

	it('POST a batch as a bare JSON array of strings', async () => {
		checkItems(await c.post(API, { json: LIST }));
	});

	it('a batch of 10,000 is answered, 10,001 is a 400', { timeout: 120_000 }, async () => {
		const many = Array.from({ length: 10000 }, (_, i) => (i % 2 ? ADDR : `x${i}`));
		let r = await c.post(API, { json: { addresses: many }, timeout: 110_000 });
		assert.equal(r.status, 200, String(r));
		const items = r.json().items;
		assert.equal(items.length, 10000);
		assert.equal(items[9998].input, 'x9998');
		assert.equal(items[9999].match_level, 'residential_detail');
		r = await c.post(API, { json: { addresses: [...many, ADDR] } });
		assert.match(assertProblem(r, 400).title, JAPANESE);
	});

	it('bad batches: not strings, too long, empty, not JSON, wrong type', async () => {
		for (const body of [
			{ addresses: [ADDR, 42] },
			{ addresses: [null] },
			{ addresses: [[ADDR]] },
			{ addresses: ['a'.repeat(4097)] },
			{ addresses: [] },
			{ addresses: ADDR },
			{ other: [ADDR] },
			[ADDR, { q: ADDR }],
		]) {
			const p = assertProblem(await c.post(API, { json: body }), 400);
			assert.match(p.title, JAPANESE, JSON.stringify(body).slice(0, 60));
		}
		for (const text of ['{"addresses": [', '[', 'nul', '{"addresses": ["\\ud800"]}']) {
			assertProblem(await c.post(API, { json: text }), 400);
		}
		// invalid UTF-8 inside the JSON body
		const body = Buffer.concat([Buffer.from('{"addresses":["和歌山市'), Buffer.from([0xff]), Buffer.from('"]}')]);
		assertProblem(await c.post(API, { body, headers: { 'content-type': 'application/json' } }), 400);
		assertProblem(await c.post(API, { body: JSON.stringify({ addresses: [ADDR] }), headers: { 'content-type': 'application/xml' } }), 415);
		assertProblem(await c.post(API, { body: 'q=x' }), 415);
		const h = await c.get('/healthz');
		assert.equal(h.status, 200);
	});

	// The registry is republished monthly: `madoguchi import abr` into the
	// database of a running server must reach its answers without a restart.
	it('a town imported while the server runs is found without a restart', { timeout: 90_000 }, async () => {
		const NEW = '和歌山県和歌山市窓口町1番地';
		const q = `${API}?q=${encodeURIComponent(NEW)}`;
		let j = (await c.get(q)).json();
		assert.equal(j.match_level, 'city', JSON.stringify(j));
		const zip = path.join(data.dataDir, 'mt_town_madoguchi.csv.zip');
		writeFileSync(zip, storedZip('mt_town_madoguchi.csv',
			'lg_code,machiaza_id,machiaza_type,pref,city,oaza_cho,chome,rsdt_addr_flg\n'
			+ '302015,0999001,1,和歌山県,和歌山市,窓口町,,0\n'));
		const r = await data.cli(['import', 'abr', zip]);
		assert.match(r.stdout, /town, 1 rows imported, 0 skipped/);
		// the server checks every few seconds and rebuilds in the background
		const deadline = Date.now() + 30_000;
		for (;;) {
			const res = await c.get(q);
			assert.equal(res.status, 200, String(res));
			j = res.json();
			if (j.match_level !== 'city' || Date.now() > deadline) break;
			await new Promise((resolve) => setTimeout(resolve, 250));
		}
		assert.equal(j.match_level, 'machiaza', JSON.stringify(j));
		assert.equal(j.oaza_cho, '窓口町');
		assert.equal(j.machiaza_id, '0999001');
		assert.equal(j.lg_code, '302015');
		// and the rebuilt index still holds everything it held before
		checkMatsue((await c.get(`${API}?q=${encodeURIComponent(ADDR)}`)).json());
	});
});
