#!/usr/bin/env node
// A second local API for the geolonia peer: the ABR-only japanese-addresses-v2 files that
// ../shared/peers/geolonia-peer.sh builds, plus the nationwide town names of towns.csv (MLIT
// 位置参照情報, as Geolonia's published API merges them). The ABR-only API stops at city level
// outside 和歌山県, so on the Geolonia test set it cannot be compared at town level; this one
// gives geolonia the same town coverage as madoguchi. Used by bench/address.sh ("geolonia+towns").
//
// usage: node bench/address_geolonia_towns.mjs SRC_API_DIR TOWNS_CSV DST_API_DIR
// Each towns.csv row becomes a 町字 {oaza_cho: town, koaza, point} in ja/<pref>/<city>.json
// (no machiaza_id, no 住居表示/地番 ranges), unless the ABR files already hold that name.
// Skipped when DST is up to date (same source stamp and towns.csv size).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const [src, townsCsv, dst] = process.argv.slice(2);
if (!src || !townsCsv || !dst) {
	console.error('usage: node bench/address_geolonia_towns.mjs SRC_API_DIR TOWNS_CSV DST_API_DIR');
	process.exit(2);
}
const here = path.dirname(fileURLToPath(import.meta.url));
const peersLib = process.env.PEERS_LIB || path.resolve(here, '..', '..', 'shared', 'peers', 'lib');
const { parseCsv } = createRequire(import.meta.url)(path.join(peersLib, 'abrzip.js'));

const srcStamp = path.join(src, 'peer-setup.txt');
if (!fs.existsSync(srcStamp)) {
	console.error(`${src}: no peer-setup.txt (run geolonia-peer.sh setup first)`);
	process.exit(1);
}
const stamp = `geolonia+towns v1\n${fs.readFileSync(srcStamp, 'utf8')}towns ${fs.statSync(townsCsv).size}\n`;
const dstStamp = path.join(dst, 'towns-setup.txt');
if (fs.existsSync(dstStamp) && fs.readFileSync(dstStamp, 'utf8') === stamp) {
	console.error(`[geolonia+towns] ${dst} is up to date`);
	process.exit(0);
}
const t0 = Date.now();
fs.rmSync(dst, { recursive: true, force: true });
fs.cpSync(src, dst, { recursive: true });

const fold = (s) => s.normalize('NFKC').replace(/[ヶヵ]/g, 'ケ');
const rows = parseCsv(fs.readFileSync(townsCsv, 'utf8'));
const head = rows.shift();
const c = Object.fromEntries(head.map((h, k) => [h, k]));
const byCity = new Map();
for (const r of rows) {
	if (r.length < head.length) continue;
	const k = `${r[c.pref]}/${r[c.city]}`;
	if (!byCity.has(k)) byCity.set(k, []);
	byCity.get(k).push(r);
}
let added = 0, cities = 0, missing = 0;
for (const [k, list] of byCity) {
	const [pref, city] = k.split('/');
	const file = path.join(dst, 'ja', pref, `${city}.json`);
	if (!fs.existsSync(file)) { missing++; continue; }
	const j = JSON.parse(fs.readFileSync(file, 'utf8'));
	const have = new Set(j.data.map(m => fold(`${m.oaza_cho || ''}${m.chome || ''}${m.koaza || ''}`)));
	for (const r of list) {
		const name = r[c.town] + (r[c.koaza] || '');
		if (have.has(fold(name))) continue;
		have.add(fold(name));
		const lng = parseFloat(r[c.lng]), lat = parseFloat(r[c.lat]);
		j.data.push({
			oaza_cho: r[c.town], koaza: r[c.koaza] || undefined,
			point: Number.isFinite(lng) && Number.isFinite(lat) ? [lng, lat] : undefined,
		});
		added++;
	}
	fs.writeFileSync(file, JSON.stringify(j));
	cities++;
}
fs.writeFileSync(dstStamp, stamp);
console.error(`[geolonia+towns] ${added} towns added to ${cities} municipalities ` +
	`(${missing} towns.csv municipalities not in mt_city), ${((Date.now() - t0) / 1000).toFixed(1)} s`);
