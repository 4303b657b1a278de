/* Tables of the resident record. residents holds one row per person and
 * municipality: the current state (a cache of the newest version, with the
 * folded names searched by the staff console), the sealed My Number and its
 * blind index. resident_versions holds every state ever recorded, each valid
 * from its 異動日 to the next one's (valid_to NULL: current); rows there are
 * only ever added, or closed by setting valid_to once. Dates are ISO text,
 * so comparing them as strings compares the days. */
#include "resident/resident.h"

const struct db_migration resident_migrations[] = {
	{1,
	 "CREATE TABLE residents ("
	 " id AUTOINCREMENT_PK,"
	 " lg_code TEXT NOT NULL,"
	 " juminhyo_code TEXT NOT NULL,"
	 " atena_no TEXT NOT NULL,"
	 " setai_no TEXT NOT NULL,"
	 " name TEXT NOT NULL,"
	 " name_kana TEXT NOT NULL,"
	 " name_fold TEXT NOT NULL,"
	 " kana_fold TEXT NOT NULL,"
	 " birth TEXT NOT NULL,"
	 " sex INTEGER NOT NULL,"
	 " zokugara TEXT,"
	 " address TEXT,"
	 " machiaza_id TEXT,"
	 " blk_id TEXT,"
	 " rsdt_id TEXT,"
	 " prc_id TEXT,"
	 " status INTEGER NOT NULL,"
	 " seq INTEGER NOT NULL,"
	 " valid_from TEXT NOT NULL,"
	 " moved_in TEXT NOT NULL,"
	 " first_event TEXT NOT NULL,"
	 " mynumber_enc BLOB,"
	 " mynumber_bidx BLOB,"
	 " account_id BIGINT,"
	 " updated_ms BIGINT NOT NULL,"
	 " UNIQUE (lg_code, juminhyo_code),"
	 " UNIQUE (lg_code, atena_no));"
	 "CREATE INDEX residents_name ON residents(lg_code, name_fold);"
	 "CREATE INDEX residents_kana ON residents(lg_code, kana_fold);"
	 "CREATE INDEX residents_setai ON residents(lg_code, setai_no);"
	 "CREATE INDEX residents_mynumber ON residents(mynumber_bidx)"
	 " WHERE mynumber_bidx IS NOT NULL;"
	 "CREATE INDEX residents_account ON residents(lg_code, account_id)"
	 " WHERE account_id IS NOT NULL;"
	 "CREATE TABLE resident_versions ("
	 " resident_id BIGINT NOT NULL REFERENCES residents(id),"
	 " seq INTEGER NOT NULL,"
	 " lg_code TEXT NOT NULL,"
	 " valid_from TEXT NOT NULL,"
	 " valid_to TEXT,"
	 " notified TEXT,"
	 " event TEXT NOT NULL,"
	 " recorded_ms BIGINT NOT NULL,"
	 " recorded_by TEXT,"
	 " juminhyo_code TEXT NOT NULL,"
	 " atena_no TEXT NOT NULL,"
	 " setai_no TEXT NOT NULL,"
	 " name TEXT NOT NULL,"
	 " name_kana TEXT NOT NULL,"
	 " birth TEXT NOT NULL,"
	 " sex INTEGER NOT NULL,"
	 " zokugara TEXT,"
	 " address TEXT,"
	 " machiaza_id TEXT,"
	 " blk_id TEXT,"
	 " rsdt_id TEXT,"
	 " prc_id TEXT,"
	 " status INTEGER NOT NULL,"
	 " PRIMARY KEY (resident_id, seq));",
	 NULL},
	/* the household as of a day (resident_household) looks versions up by
	 * 世帯番号: a past member may be in another household today */
	{2, "CREATE INDEX resident_versions_setai ON resident_versions(lg_code, setai_no)", NULL},
	/* search hits are ordered by the folded reading: in code-point order on
	 * both backends (SQLite compares bytes; PostgreSQL would use the
	 * database's collation, under which e.g. ja-JP's がい < かく, and a
	 * LIMIT would keep other residents). Nothing to do on SQLite. */
	{3, "SELECT 1",
	 "ALTER TABLE residents ALTER COLUMN name_fold TYPE TEXT COLLATE \"C\","
	 " ALTER COLUMN kana_fold TYPE TEXT COLLATE \"C\""},
	{0, NULL, NULL},
};
