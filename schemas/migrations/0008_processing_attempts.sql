-- Poison pills: an event whose processing crashes the daemon (or hangs it past its processing
-- timeout) would be consumed again, and crash it again, at the same offset on every restart.
-- Before a batch is processed, the offsets it covers are recorded here, one row per partition;
-- the batch's commit deletes them. A row still here at the next start is an attempt that never
-- finished: its records are then processed one by one, and a record covered by as many
-- unfinished attempts as the daemon allows is quarantined as a dead letter unprocessed.
CREATE TABLE processing_attempts (
    id bigserial PRIMARY KEY,
    consumer_group text NOT NULL,
    topic text NOT NULL,
    kafka_partition integer NOT NULL,
    first_offset bigint NOT NULL,
    last_offset bigint NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    CHECK (first_offset <= last_offset)
);
CREATE INDEX processing_attempts_partition ON processing_attempts (consumer_group, topic, kafka_partition, last_offset);
