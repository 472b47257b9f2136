-- The event history. Events follow their device (no project column): a
-- moved device keeps its history. time is the event's timestamp (its
-- updateTime) in Unix microseconds; value the number the console charts;
-- body the event type's body as the API writes it.
CREATE TABLE events (
    id         TEXT    NOT NULL,
    device_id  TEXT    NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    event_type TEXT    NOT NULL,
    time       INTEGER NOT NULL,
    value      REAL,
    body       TEXT    NOT NULL
) STRICT;
-- A device's history, newest first, and its charts.
CREATE INDEX events_by_device_time ON events (device_id, time, id);
-- Pruning: the oldest events first.
CREATE INDEX events_by_time ON events (time);
