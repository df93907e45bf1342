-- The summarizer's IMPRESSION, written from the FINDINGS alone, beside the radiologist's own
-- (`impression`), with the version of the model that wrote it; and the observations on which
-- the labeler reads the two impressions differently, so that a dashboard can list where they
-- disagree. NULL where the report has no FINDINGS or the summarizer is off.
ALTER TABLE reports ADD COLUMN generated_impression text;
ALTER TABLE reports ADD COLUMN summarizer_version text;
ALTER TABLE reports ADD COLUMN impression_disagreements jsonb;
