-- The captioner's IMPRESSION for each image, with the version of the model that wrote it, and
-- whether the labeler reads pneumonia (or a consolidation) in it. NULL where the captioner is off.
ALTER TABLE images ADD COLUMN generated_impression text;
ALTER TABLE images ADD COLUMN captioner_version text;
ALTER TABLE images ADD COLUMN generated_states_pneumonia boolean;

-- Where a study has both an image and a report: the captioner's impression beside the
-- radiologist's, and whether they disagree on pneumonia (the radiologist's side as the labeler
-- reads the whole report).
CREATE VIEW study_impressions AS
SELECT i.study_id, i.image_id, r.report_id,
       r.impression AS radiologist_impression,
       i.generated_impression,
       i.captioner_version,
       (r.observations->>'Pneumonia' IN ('positive', 'uncertain') OR r.observations->>'Consolidation' = 'positive')
           AS radiologist_states_pneumonia,
       i.generated_states_pneumonia,
       (r.observations->>'Pneumonia' IN ('positive', 'uncertain') OR r.observations->>'Consolidation' = 'positive')
           IS DISTINCT FROM i.generated_states_pneumonia AS disagree_on_pneumonia
FROM images i JOIN reports r ON r.study_id = i.study_id
WHERE i.generated_impression IS NOT NULL AND r.observations IS NOT NULL;
