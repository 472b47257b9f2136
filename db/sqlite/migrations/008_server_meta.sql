-- The one row of server_meta holds the check value of the server key that
-- seals this database's secrets, and the column the write probe sets.
-- db.Open made this table itself before any migration until now; it is a
-- migration like every other table, so the migrations are the only source
-- of the schema. A database that has it already keeps it, with its row.
CREATE TABLE IF NOT EXISTS server_meta (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	key_check TEXT NOT NULL DEFAULT '',
	probe_time INTEGER NOT NULL DEFAULT 0) STRICT;
INSERT OR IGNORE INTO server_meta (id) VALUES (1);
