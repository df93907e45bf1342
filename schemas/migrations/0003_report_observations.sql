-- What the report labeler reads in each report: the 14 CheXpert observations, each
-- positive / negative / uncertain / absent, and the version of the rules that read them. Kept
-- apart from `labels` (what the event itself carried) so that a dashboard can set the two side by side.
ALTER TABLE reports ADD COLUMN observations jsonb;
ALTER TABLE reports ADD COLUMN labeler_version text;
CREATE INDEX reports_pneumonia ON reports ((observations->>'Pneumonia'));
