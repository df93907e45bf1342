-- The results going back to the hospital, as a transactional outbox: a row is written in the
-- batch's own transaction with the image it is about (so a crash loses none, and an event
-- written once is one row), then published to the results topic and marked. The facts are the
-- image's own rows (images, image_predictions), read when it is published: the stream's
-- transaction adds a small row, nothing more. The identity of its documents is given here once
-- (the FHIR resource's id; the SR's instance and series UIDs under 2.25), so that publishing a
-- row again publishes the same documents.
CREATE TABLE result_outbox (
    id bigserial PRIMARY KEY,
    image_id bigint NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    study_id text NOT NULL,
    -- The instance's DICOM identifiers, when it came by C-STORE (then an SR is made too).
    dicom jsonb,
    document_id uuid NOT NULL DEFAULT gen_random_uuid(),
    series_id uuid NOT NULL DEFAULT gen_random_uuid(),
    created_at timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz,
    -- Why a document could not be rendered (the others of the row were published).
    last_error text,
    -- The SR sent by C-STORE to results.dicomDestination, when one is configured: when it was
    -- stored, or why the destination refused it (a refused SR is not sent again until a person
    -- clears the reason).
    sr_sent_at timestamptz,
    sr_error text
);

CREATE UNIQUE INDEX result_outbox_image ON result_outbox (image_id);
CREATE INDEX result_outbox_pending ON result_outbox (id) WHERE published_at IS NULL;
CREATE INDEX result_outbox_unsent ON result_outbox (id)
    WHERE published_at IS NOT NULL AND sr_sent_at IS NULL AND sr_error IS NULL AND dicom IS NOT NULL;
