-- An event is the same event wherever Kafka delivers it: a producer's retry without idempotence
-- or a replay puts it at a second offset (or on another partition), and it must still have one
-- result. Until now identity was the offset alone, so such a copy made a second row.

-- Copies written before this migration: the first row of each event_id stays, the later copies
-- (with their kept pixels and predictions, by ON DELETE CASCADE) go.
DELETE FROM images WHERE id IN (
    SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY event_id ORDER BY id) AS copy FROM images) AS numbered
    WHERE copy > 1);
DELETE FROM reports WHERE id IN (
    SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY event_id ORDER BY id) AS copy FROM reports) AS numbered
    WHERE copy > 1);
CREATE UNIQUE INDEX images_event_id ON images (event_id);
CREATE UNIQUE INDEX reports_event_id ON reports (event_id);
