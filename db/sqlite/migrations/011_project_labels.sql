-- Project labels and nullable coordinates (issue 13).

-- A project's coordinates are optional: NULL when none were given, never 0.
-- SQLite cannot drop NOT NULL from a column, so each coordinate moves to a
-- new nullable column under the same name. Until now an absent coordinate
-- was stored as 0, so a project at exactly 0, 0 (in the Gulf of Guinea)
-- is taken for one without coordinates.
ALTER TABLE projects ADD COLUMN latitude_or_null REAL;
ALTER TABLE projects ADD COLUMN longitude_or_null REAL;
UPDATE projects SET latitude_or_null = latitude, longitude_or_null = longitude
WHERE NOT (latitude = 0 AND longitude = 0);
ALTER TABLE projects DROP COLUMN latitude;
ALTER TABLE projects DROP COLUMN longitude;
ALTER TABLE projects RENAME COLUMN latitude_or_null TO latitude;
ALTER TABLE projects RENAME COLUMN longitude_or_null TO longitude;

-- Labels: key → value ("" for a key-only label), at most one value per key.
CREATE TABLE project_labels (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (project_id, key)
) STRICT, WITHOUT ROWID;
-- The project list filtered by label.
CREATE INDEX project_labels_by_label ON project_labels (key, value, project_id);
