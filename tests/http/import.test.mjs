// `madoguchi import abr`: the Address Base Registry zips as published go into
// the registry tables on SQLite and PostgreSQL alike; importing again changes
// nothing; a file that is not ABR is refused with a clear message.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { ABR_CITY, prepareData } from './lib/server.mjs';

const ABR_DIR = path.dirname(ABR_CITY);

describe('import abr', () => {
	let data;
	after(() => data && rmSync(data.dataDir, { recursive: true, force: true }));

	it('imports towns, residences and parcels of 和歌山市, twice with the same result', { timeout: 120_000 }, async () => {
		data = await prepareData({ tenantB: false });
		const files = ['mt_town_all.csv.zip', 'mt_town_pos_pref30.csv.zip', 'mt_rsdtdsp_rsdt_pref30.csv.zip',
			'mt_parcel_city302015.csv.zip'].map((f) => path.join(ABR_DIR, f));
		for (let round = 0; round < 2; round++) {
			const r = await data.cli(['import', 'abr', ...files]);
			assert.match(r.stdout, /mt_town_all\.csv\.zip: town, 737 rows imported, 0 skipped/);
			assert.match(r.stdout, /mt_town_pos_pref30\.csv\.zip: town_pos, 3537 rows imported/);
			assert.match(r.stdout, /mt_rsdtdsp_rsdt_pref30\.csv\.zip: rsdt, 34015 rows imported/);
			assert.match(r.stdout, /mt_parcel_city302015\.csv\.zip: parcel, 367519 rows imported, 0 skipped/);
		}
	});

	it('refuses a file that is not an ABR zip, and a bad --on-error', async () => {
		const bad = await data.cli(['import', 'abr', ABR_CITY.replace('mt_city_all', 'no_such_file')], { expect: 1 });
		assert.match(bad.stderr, /no_such_file/);
		const flag = await data.cli(['import', 'abr', '--on-error', 'maybe', ABR_CITY], { expect: 2 });
		assert.match(flag.stderr, /--on-error/);
		const none = await data.cli(['import', 'abr'], { expect: 2 });
		assert.match(none.stderr, /zip/);
	});
});
