-- Devices (sensors and cloud connectors) of projects. labels and reported
-- are JSON objects; name_key is the name label lower-cased (the console's
-- order), search the lower-cased id, type, product number and labels that
-- keywords are matched against. A project holding devices cannot be
-- deleted (RESTRICT): they are moved or deleted first.
CREATE TABLE devices (
    id             TEXT    PRIMARY KEY,
    project_id     TEXT    NOT NULL REFERENCES projects (id) ON DELETE RESTRICT,
    type           TEXT    NOT NULL,
    product_number TEXT    NOT NULL DEFAULT '',
    emulated       INTEGER NOT NULL DEFAULT 0,
    labels         TEXT    NOT NULL DEFAULT '{}',
    name_key       TEXT    NOT NULL DEFAULT '',
    search         TEXT    NOT NULL DEFAULT '',
    reported       TEXT    NOT NULL DEFAULT '{}',
    last_seen      INTEGER NOT NULL DEFAULT 0,
    create_time    INTEGER NOT NULL
) STRICT;
CREATE INDEX devices_by_project ON devices (project_id, id);
CREATE INDEX devices_by_project_name ON devices (project_id, name_key, id);

-- The project's counts of the API (sensorCount, cloudConnectorCount),
-- kept by the same transactions that add, move and delete devices.
ALTER TABLE projects ADD COLUMN sensor_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE projects ADD COLUMN cloud_connector_count INTEGER NOT NULL DEFAULT 0;
