-- RadStream's first schema: where every consumed event lands, and the consumer offsets that
-- commit in the same transaction as the results (exactly-once effect).

-- The next offset to read per consumer group and partition; the source of truth on assignment.
CREATE TABLE consumer_offsets (
    consumer_group text NOT NULL,
    topic text NOT NULL,
    kafka_partition integer NOT NULL,
    next_offset bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, topic, kafka_partition)
);

-- One row per image event processed. (topic, partition, offset) is the event's identity: a
-- replayed record can never make a second row.
CREATE TABLE images (
    id bigserial PRIMARY KEY,
    topic text NOT NULL,
    kafka_partition integer NOT NULL,
    kafka_offset bigint NOT NULL,
    event_id text NOT NULL,
    study_id text NOT NULL,
    image_id text NOT NULL,
    source text NOT NULL CHECK (source IN ('inline', 'uri')),
    format text NOT NULL,
    width integer NOT NULL,
    height integer NOT NULL,
    source_bit_depth integer NOT NULL,
    photometric text,
    labels jsonb,
    processed_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (topic, kafka_partition, kafka_offset)
);
CREATE INDEX images_study ON images (study_id);
-- Unlabeled images are what self-training reads.
CREATE INDEX images_unlabeled ON images (id) WHERE labels IS NULL;

-- Downsampled greyscale copies (side × side, row-major bytes) that the models train and run on,
-- kept so that no later training refetches an image.
CREATE TABLE image_pixels (
    image_id bigint NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    side integer NOT NULL,
    pixels bytea NOT NULL CHECK (length(pixels) = side * side),
    PRIMARY KEY (image_id, side)
);

-- One row per report event processed, with its sections.
CREATE TABLE reports (
    id bigserial PRIMARY KEY,
    topic text NOT NULL,
    kafka_partition integer NOT NULL,
    kafka_offset bigint NOT NULL,
    event_id text NOT NULL,
    study_id text NOT NULL,
    report_id text NOT NULL,
    format text NOT NULL,
    findings text,
    impression text,
    indication text,
    comparison text,
    technique text,
    labels jsonb,
    processed_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (topic, kafka_partition, kafka_offset)
);
CREATE INDEX reports_study ON reports (study_id);

-- Events that could not be processed, with why. Large payloads keep only their hash.
CREATE TABLE dead_letters (
    id bigserial PRIMARY KEY,
    topic text NOT NULL,
    kafka_partition integer NOT NULL,
    kafka_offset bigint NOT NULL,
    message_key text,
    payload bytea,
    payload_sha256 text NOT NULL,
    payload_bytes integer NOT NULL,
    error_code text NOT NULL,
    error text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (topic, kafka_partition, kafka_offset)
);
CREATE INDEX dead_letters_code ON dead_letters (error_code);
