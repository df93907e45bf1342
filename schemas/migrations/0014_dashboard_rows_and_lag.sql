-- Views of the rows themselves, each with its time column, for dashboards that aggregate over a
-- time range (Grafana's `$__timeGroup`, the web dashboard's charts): the range is applied to the
-- rows before they are grouped, so the time indexes cut it — the per-hour and per-day views of
-- 0012 group every row first. PostgreSQL pushes a condition on `at` into each branch of a
-- UNION ALL, so each branch uses its table's index.
CREATE VIEW dashboard.events AS
SELECT processed_at AS at, 'image' AS kind FROM images
UNION ALL
SELECT processed_at, 'report' FROM reports
UNION ALL
SELECT created_at, 'dead letter' FROM dead_letters;

-- Each image prediction with the time its film was processed: the positive rate over a range is
-- the share of the applicable ones whose decision is the finding.
CREATE VIEW dashboard.image_decisions AS
SELECT i.processed_at AS at, i.study_id, p.model, p.model_version, p.decision, p.applicable
FROM image_predictions p JOIN images i ON i.id = p.image_id;

-- When each study was last seen, one row per image or report: the studies list walks it newest
-- first (by the time indexes) to find which studies to summarise, rather than summarising every
-- study and sorting.
CREATE VIEW dashboard.study_activity AS
SELECT processed_at AS at, study_id FROM images
UNION ALL
SELECT processed_at, study_id FROM reports;

-- Consumer lag over time: records waiting in Kafka per partition, sampled by each daemon every
-- `kafka.lagRecordSeconds` for the partitions it holds (the live figure is on its /metrics;
-- this is the history a dashboard charts). Samples older than 30 days are deleted as new ones
-- are written.
CREATE TABLE consumer_lag (
    sampled_at timestamptz NOT NULL DEFAULT now(),
    consumer_group text NOT NULL,
    topic text NOT NULL,
    kafka_partition integer NOT NULL,
    lag bigint NOT NULL CHECK (lag >= 0)
);
CREATE INDEX consumer_lag_sampled_at ON consumer_lag (sampled_at);

CREATE VIEW dashboard.consumer_lag AS
SELECT sampled_at AS at, consumer_group, topic, kafka_partition, lag FROM consumer_lag;
