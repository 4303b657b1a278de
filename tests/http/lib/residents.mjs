// Test residents for the resident record (住民記録): check digits computed
// here in JS, independently of the C code under test, a CSV in the format of
// `madoguchi resident import`, and the helpers that load it and link a
// resident log-in to a record.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from './server.mjs';

/**
 * 宛名番号 / 世帯番号 / 住民票コード check digit of a base (string of digits):
 * weights 2,3,4,5,6,7,2,3,… from the rightmost base digit leftwards,
 * r = Σ mod 11, check 0 when r ≤ 1, else 11 − r.
 */
export function atenaCheck(base) {
	let sum = 0;
	for (let i = 0; i < base.length; i++) {
		const d = Number(base[base.length - 1 - i]);
		sum += d * (2 + (i % 6));
	}
	const r = sum % 11;
	return String(r <= 1 ? 0 : 11 - r);
}

/** The base followed by its check digit. */
export function withAtenaCheck(base) {
	return base + atenaCheck(base);
}

/**
 * 個人番号 check digit of the first 11 digits: P_n the n-th digit from the
 * right (n = 1…11), Q_n = n + 1 for n ≤ 6 and n − 5 for n ≥ 7, r = Σ P_n·Q_n
 * mod 11, check 0 when r ≤ 1, else 11 − r. (983205673214 is valid.)
 */
export function myNumberCheck(base11) {
	let sum = 0;
	for (let n = 1; n <= 11; n++) {
		const p = Number(base11[11 - n]);
		const q = n <= 6 ? n + 1 : n - 5;
		sum += p * q;
	}
	const r = sum % 11;
	return String(r <= 1 ? 0 : 11 - r);
}

export function myNumber(base11) {
	return base11 + myNumberCheck(base11);
}

const COLUMNS = ['juminhyo_code', 'atena_no', 'setai_no', 'name', 'name_kana', 'birth', 'sex',
	'zokugara', 'address', 'machiaza_id', 'blk_id', 'rsdt_id', 'prc_id', 'mynumber', 'event', 'moved_in'];

function csvField(v) {
	const s = v === undefined || v === null ? '' : String(v);
	return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The import CSV (UTF-8, header by name) for rows of {column: value}. */
export function residentsCsv(rows) {
	const lines = [COLUMNS.join(',')];
	for (const r of rows) lines.push(COLUMNS.map((c) => csvField(r[c])).join(','));
	return lines.join('\r\n') + '\r\n';
}

/** Writes rows as a CSV in the data directory and imports it for lg. */
export async function importResidents(data, lg, rows, name = `residents-${lg}.csv`) {
	const file = path.join(data.dataDir, name);
	writeFileSync(file, residentsCsv(rows));
	return await data.cli(['resident', 'import', '--lg-code', lg, file]);
}

/** Links the log-in `login` of lg to the resident juminhyo_code (plain SQL). */
export async function linkResident(server, lg, login, juminhyoCode) {
	await sql(server,
		`UPDATE residents SET account_id = (SELECT id FROM accounts WHERE lg_code = '${lg}' AND login = '${login}') ` +
		`WHERE lg_code = '${lg}' AND juminhyo_code = '${juminhyoCode}'`);
}

// A small 和歌山市 household and a neighbour, and one 海南市 resident.
// Every number carries a valid check digit computed above.
export const HANAKO = {
	juminhyo_code: withAtenaCheck('1000000001'),
	atena_no: withAtenaCheck('2000001'),
	setai_no: withAtenaCheck('3000001'),
	name: '和歌山 花子',
	name_kana: 'ワカヤマ ハナコ',
	birth: '1985-04-01',
	sex: 2,
	zokugara: '世帯主',
	address: '和歌山県和歌山市七番丁23番地',
	mynumber: myNumber('12345678901'),
	event: 'tennyu',
	moved_in: '2010-04-01',
};
export const ICHIRO = {
	juminhyo_code: withAtenaCheck('1000000002'),
	atena_no: withAtenaCheck('2000002'),
	setai_no: HANAKO.setai_no,
	name: '和歌山 一郎',
	name_kana: 'ワカヤマ イチロウ',
	birth: '2015-06-10',
	sex: 1,
	zokugara: '子',
	address: HANAKO.address,
	mynumber: myNumber('23456789012'),
	event: 'shussei',
	moved_in: '2015-06-10',
};
export const TARO = {
	juminhyo_code: withAtenaCheck('1000000003'),
	atena_no: withAtenaCheck('2000003'),
	setai_no: withAtenaCheck('3000002'),
	name: '紀ノ川 太郎',
	name_kana: 'キノカワ タロウ',
	birth: '1950-01-15',
	sex: 1,
	zokugara: '世帯主',
	address: '和歌山県和歌山市小松原通一丁目1番',
	mynumber: myNumber('34567890123'),
	event: 'tennyu',
	moved_in: '1990-10-01',
};
export const JIRO_B = {
	juminhyo_code: withAtenaCheck('1000000004'),
	atena_no: withAtenaCheck('2000004'),
	setai_no: withAtenaCheck('3000003'),
	name: '海南 次郎',
	name_kana: 'カイナン ジロウ',
	birth: '1970-07-07',
	sex: 1,
	zokugara: '世帯主',
	address: '和歌山県海南市南赤坂11番地',
	mynumber: myNumber('45678901234'),
	event: 'tennyu',
	moved_in: '2000-01-01',
};
