#!/usr/bin/env node
// An ABR folder for the abrg peer with the nationwide town names of towns.csv added, so that
// abr-geocoder can be compared with madoguchi at town level on the Geolonia test set (the
// ABR files at hand have 町字 only for 和歌山県 and えびの市). Used by bench/address.sh ("abrg+towns").
//
// usage: node bench/address_abrg_towns.mjs ABR_DIR TOWNS_CSV OUT_DIR
// OUT_DIR gets a symbolic link to every ABR zip plus mt_town_pref99.csv.zip and
// mt_town_pos_pref99.csv.zip: one mt_town row per towns.csv town that the ABR files lack,
// in the ABR layout (lg_code from mt_city by prefecture + county/city/ward name; machiaza_id
// 9000001… per municipality, i.e. not a real ID; "…二丁目" split into oaza_cho + chome "２丁目"
// as ABR writes it; koaza; the towns.csv point as rep_lon/rep_lat, EPSG:6668).
// The zips are deterministic (fixed dates), so abrg-setup.js rebuilds only when the data change.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const [abrDir, townsCsv, outDir] = process.argv.slice(2);
if (!abrDir || !townsCsv || !outDir) {
	console.error('usage: node bench/address_abrg_towns.mjs ABR_DIR TOWNS_CSV OUT_DIR');
	process.exit(2);
}
const here = path.dirname(fileURLToPath(import.meta.url));
const peersLib = process.env.PEERS_LIB || path.resolve(here, '..', '..', 'shared', 'peers', 'lib');
const { parseCsv, readZipCsv, listAbrZips } = createRequire(import.meta.url)(path.join(peersLib, 'abrzip.js'));

const t0 = Date.now();
const zips = listAbrZips(abrDir);
fs.mkdirSync(outDir, { recursive: true });
for (const z of zips) {
	const link = path.join(outDir, path.basename(z.file));
	fs.rmSync(link, { force: true });
	fs.symlinkSync(path.resolve(z.file), link);
}

const fold = (s) => s.normalize('NFKC').replace(/[ヶヵ]/g, 'ケ').replace(/^大?字/, '');
const KNUM = { 一: 1, 二: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9 };
function kanjiNumber(s) { // 一 … 九十九
	const m = /^([一二三四五六七八九]?)(十?)([一二三四五六七八九]?)$/.exec(s);
	if (!m || !s) return null;
	if (!m[2]) return m[3] ? null : KNUM[m[1]];
	return (m[1] ? KNUM[m[1]] : 1) * 10 + (m[3] ? KNUM[m[3]] : 0);
}
const fullWidth = (n) => String(n).replace(/[0-9]/g, (d) => String.fromCharCode(d.charCodeAt(0) + 0xfee0));

// municipality name (county+city+ward) -> mt_city row, per prefecture
const cityBy = new Map();
for (const z of zips.filter(z => z.type === 'city')) {
	const t = readZipCsv(z.file);
	const c = t.col;
	for (const r of t.rows) cityBy.set(`${r[c.pref]}|${r[c.county]}${r[c.city]}${r[c.ward]}`, { row: r, c });
}
// towns the ABR files already hold
const have = new Set();
for (const z of zips.filter(z => z.type === 'town')) {
	const t = readZipCsv(z.file);
	const c = t.col;
	for (const r of t.rows) {
		const k = `${r[c.lg_code]}|`;
		have.add(k + fold(r[c.oaza_cho] + r[c.chome] + r[c.koaza]));
		have.add(k + fold(r[c.oaza_cho] + r[c.chome]));
	}
}

const TOWN_HEADER = ['lg_code', 'machiaza_id', 'machiaza_type', 'pref', 'pref_kana', 'pref_roma', 'county', 'county_kana',
	'county_roma', 'city', 'city_kana', 'city_roma', 'ward', 'ward_kana', 'ward_roma', 'oaza_cho', 'oaza_cho_kana',
	'oaza_cho_roma', 'chome', 'chome_kana', 'chome_number', 'koaza', 'koaza_kana', 'koaza_roma', 'machiaza_dist',
	'rsdt_addr_flg', 'rsdt_addr_mtd_code', 'oaza_cho_aka_flg', 'koaza_aka_code', 'oaza_cho_gsi_uncmn', 'koaza_gsi_uncmn',
	'status_flg', 'wake_num_flg', 'efct_date', 'ablt_date', 'src_code', 'post_code', 'remarks'];
const POS_HEADER = ['lg_code', 'machiaza_id', 'rsdt_addr_flg', 'rep_lon', 'rep_lat', 'rep_srid', 'rep_scale', 'rep_src_code',
	'plygn_fname', 'plygn_kcode', 'plygn_fmt', 'plygn_srid', 'plygn_scale', 'plygn_src_code', 'pos_oaza_cho_chome_code',
	'pos_data_mnt_year', 'cns_bnd_s_area_kcode', 'cns_bnd_year'];
const csvField = (v) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
const townLines = [TOWN_HEADER.join(',')], posLines = [POS_HEADER.join(',')];

const rows = parseCsv(fs.readFileSync(townsCsv, 'utf8'));
const head = rows.shift();
const tc = Object.fromEntries(head.map((h, k) => [h, k]));
const nextId = new Map();
let added = 0, noCity = 0;
for (const r of rows) {
	if (r.length < head.length) continue;
	const city = cityBy.get(`${r[tc.pref]}|${r[tc.city]}`);
	if (!city) { noCity++; continue; }
	const { row: cr, c } = city;
	const lg = cr[c.lg_code];
	const town = r[tc.town], koaza = r[tc.koaza] || '';
	if (have.has(`${lg}|${fold(town + koaza)}`)) continue;
	have.add(`${lg}|${fold(town + koaza)}`);
	let oaza = town, chome = '', chomeN = '';
	const m = /^(.+?)([一二三四五六七八九十]+)丁目$/.exec(town);
	if (m && kanjiNumber(m[2])) { oaza = m[1]; chomeN = String(kanjiNumber(m[2])); chome = `${fullWidth(chomeN)}丁目`; }
	const id = (nextId.get(lg) || 9000001);
	nextId.set(lg, id + 1);
	const o = {
		lg_code: lg, machiaza_id: String(id), machiaza_type: chome ? '2' : (koaza ? '3' : '1'),
		pref: cr[c.pref], pref_kana: cr[c.pref_kana], pref_roma: cr[c.pref_roma],
		county: cr[c.county], county_kana: cr[c.county_kana], county_roma: cr[c.county_roma],
		city: cr[c.city], city_kana: cr[c.city_kana], city_roma: cr[c.city_roma],
		ward: cr[c.ward], ward_kana: cr[c.ward_kana], ward_roma: cr[c.ward_roma],
		oaza_cho: oaza, chome, chome_number: chomeN, koaza,
		rsdt_addr_flg: '0', rsdt_addr_mtd_code: '0', oaza_cho_aka_flg: '0', koaza_aka_code: '0',
		oaza_cho_gsi_uncmn: '0', koaza_gsi_uncmn: '0', status_flg: '1', wake_num_flg: '1',
		efct_date: '1947-04-17', src_code: '0',
	};
	townLines.push(TOWN_HEADER.map(h => csvField(o[h] ?? '')).join(','));
	if (r[tc.lng] && r[tc.lat]) {
		const p = { lg_code: lg, machiaza_id: String(id), rsdt_addr_flg: '0', rep_lon: r[tc.lng], rep_lat: r[tc.lat],
			rep_srid: 'EPSG:6668', rep_scale: '25000', rep_src_code: '0', plygn_src_code: '0' };
		posLines.push(POS_HEADER.map(h => csvField(p[h] ?? '')).join(','));
	}
	added++;
}

// a one-entry zip, deflated, fixed timestamp (deterministic bytes)
function writeZip(file, name, text) {
	const data = Buffer.from(text, 'utf8');
	const comp = zlib.deflateRawSync(data, { level: 6 });
	const crc = zlib.crc32(data);
	const nm = Buffer.from(name, 'utf8');
	const dosTime = 0, dosDate = (2020 - 1980) << 9 | 1 << 5 | 1;
	const local = Buffer.alloc(30);
	local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4); local.writeUInt16LE(0x0800, 6);
	local.writeUInt16LE(8, 8); local.writeUInt16LE(dosTime, 10); local.writeUInt16LE(dosDate, 12);
	local.writeUInt32LE(crc, 14); local.writeUInt32LE(comp.length, 18); local.writeUInt32LE(data.length, 22);
	local.writeUInt16LE(nm.length, 26); local.writeUInt16LE(0, 28);
	const central = Buffer.alloc(46);
	central.writeUInt32LE(0x02014b50, 0); central.writeUInt16LE(20, 4); central.writeUInt16LE(20, 6);
	central.writeUInt16LE(0x0800, 8); central.writeUInt16LE(8, 10); central.writeUInt16LE(dosTime, 12);
	central.writeUInt16LE(dosDate, 14); central.writeUInt32LE(crc, 16); central.writeUInt32LE(comp.length, 20);
	central.writeUInt32LE(data.length, 24); central.writeUInt16LE(nm.length, 28);
	central.writeUInt32LE(0, 42);
	const cdOffset = local.length + nm.length + comp.length;
	const end = Buffer.alloc(22);
	end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(1, 8); end.writeUInt16LE(1, 10);
	end.writeUInt32LE(central.length + nm.length, 12); end.writeUInt32LE(cdOffset, 16);
	const out = Buffer.concat([local, nm, comp, central, nm, end]);
	// rewrite only when different: keeps the mtime, and abrg-setup.js' stamp (names + sizes)
	if (!fs.existsSync(file) || !fs.readFileSync(file).equals(out)) fs.writeFileSync(file, out);
}
writeZip(path.join(outDir, 'mt_town_pref99.csv.zip'), 'mt_town_pref99.csv', townLines.join('\n') + '\n');
writeZip(path.join(outDir, 'mt_town_pos_pref99.csv.zip'), 'mt_town_pos_pref99.csv', posLines.join('\n') + '\n');
console.error(`[abrg+towns] ${outDir}: ${zips.length} ABR zips linked, ${added} towns.csv towns added ` +
	`(${noCity} rows without a municipality in mt_city), ${((Date.now() - t0) / 1000).toFixed(1)} s`);
