-- What dashboards read: views in a schema of their own, so that a reader role can be granted
-- exactly these (`radstream migrate --create-reader-role NAME`) and nothing of the tables under
-- them — no event payloads, no dead-letter bodies, no model weights. The views run with their
-- owner's rights; the reader needs no grant on the tables.
CREATE SCHEMA dashboard;

-- Events processed per hour, by kind: images, reports, and the events that became dead letters.
CREATE VIEW dashboard.events_per_hour AS
SELECT date_trunc('hour', processed_at) AS hour, 'image' AS kind, count(*) AS events FROM images GROUP BY 1
UNION ALL
SELECT date_trunc('hour', processed_at), 'report', count(*) FROM reports GROUP BY 1
UNION ALL
SELECT date_trunc('hour', created_at), 'dead letter', count(*) FROM dead_letters GROUP BY 1;

-- Dead letters per hour and error code.
CREATE VIEW dashboard.dead_letters_per_hour AS
SELECT date_trunc('hour', created_at) AS hour, error_code, count(*) AS dead_letters
FROM dead_letters GROUP BY 1, 2;

-- Dead letters as a person reads them: where, why, when, and the payload's size and SHA-256
-- (the payload itself stays in the table).
CREATE VIEW dashboard.dead_letters AS
SELECT id, topic, kafka_partition, kafka_offset, error_code, error, payload_bytes, payload_sha256, created_at
FROM dead_letters;

-- Each model version's decisions per day, over the predictions its applicability gate let
-- through (a film it was not fit to read says nothing of its positive rate), with each
-- decision's share of the day: the positive rate of a finding is the share of its decision.
CREATE VIEW dashboard.decisions_per_day AS
SELECT day, model, model_version, decision, predictions,
       predictions::double precision / sum(predictions) OVER (PARTITION BY day, model, model_version) AS share,
       not_applicable
FROM (
    SELECT date_trunc('day', i.processed_at) AS day, p.model, p.model_version, p.decision,
           count(*) FILTER (WHERE p.applicable IS DISTINCT FROM false) AS predictions,
           count(*) FILTER (WHERE p.applicable = false) AS not_applicable
    FROM image_predictions p JOIN images i ON i.id = p.image_id
    GROUP BY 1, 2, 3, 4
) AS daily;

-- Studies with a report and an image: the radiologist's impression beside the captioner's and
-- the summarizer's, each side's reading of pneumonia (by the labeler), the pneumonia model's
-- probability, and the flag a radiologist or quality reviewer looks for.
CREATE VIEW dashboard.report_image_discrepancies AS
SELECT i.study_id, i.image_id, r.report_id, i.processed_at,
       r.impression AS radiologist_impression,
       i.generated_impression AS captioner_impression,
       r.generated_impression AS summarizer_impression,
       (r.observations->>'Pneumonia' IN ('positive', 'uncertain') OR r.observations->>'Consolidation' = 'positive')
           AS radiologist_states_pneumonia,
       i.generated_states_pneumonia AS captioner_states_pneumonia,
       r.impression_disagreements AS summarizer_disagreements,
       (p.probabilities->>'pneumonia')::double precision AS pneumonia_probability,
       p.decision AS pneumonia_decision,
       p.applicable AS pneumonia_applicable,
       -- NULL where a side is missing: no prediction, a film the model is not fit to read, the captioner off.
       CASE WHEN p.decision IS NOT NULL AND p.applicable IS DISTINCT FROM false THEN
           (r.observations->>'Pneumonia' IN ('positive', 'uncertain') OR r.observations->>'Consolidation' = 'positive')
           IS DISTINCT FROM (p.decision = 'pneumonia') END AS image_model_disagrees,
       CASE WHEN i.generated_states_pneumonia IS NOT NULL THEN
           (r.observations->>'Pneumonia' IN ('positive', 'uncertain') OR r.observations->>'Consolidation' = 'positive')
           IS DISTINCT FROM i.generated_states_pneumonia END AS captioner_disagrees
FROM images i
JOIN reports r ON r.study_id = i.study_id
LEFT JOIN image_predictions p ON p.image_id = i.id AND p.model = 'pneumonia'
WHERE r.observations IS NOT NULL;

-- Reports whose generated impression the labeler reads differently from the radiologist's.
CREATE VIEW dashboard.summarizer_disagreements AS
SELECT study_id, report_id, processed_at, impression AS radiologist_impression,
       generated_impression, summarizer_version, impression_disagreements AS disagreements
FROM reports
WHERE jsonb_array_length(impression_disagreements) > 0;

-- Self-training rounds over time, with both models' figures.
CREATE VIEW dashboard.self_training_rounds AS
SELECT id, model, consumer_group, trigger, started_at, finished_at, duration_seconds, labeled_images,
       unlabeled_images, steps, teacher_version, candidate_version,
       (teacher_metrics->>'auc')::double precision AS teacher_auc,
       (candidate_metrics->>'auc')::double precision AS candidate_auc,
       (teacher_metrics->>'accuracy')::double precision AS teacher_accuracy,
       (candidate_metrics->>'accuracy')::double precision AS candidate_accuracy,
       decision, reason
FROM self_training_rounds;

-- Every change of a served version: registrations, promotions and rollbacks.
CREATE VIEW dashboard.model_activations AS
SELECT id, model, version, previous_version, cause, activated_at FROM model_activations;

-- The registry without its weights: every version, its lineage, status and figures.
CREATE VIEW dashboard.model_versions AS
SELECT model, version, parent_version, origin, status,
       (metrics->>'auc')::double precision AS auc,
       (metrics->>'accuracy')::double precision AS accuracy,
       (metrics->>'expectedCalibrationError')::double precision AS expected_calibration_error,
       applicability IS NOT NULL AS gated, length(weights) AS weight_bytes, created_at
FROM model_registry;

-- What a study page shows: its reports (sections, the labeler's observations, the generated
-- impression and where the two disagree), its films (the 128-pixel grey copy the stream kept),
-- each film's predictions with their Grad-CAM maps, and the counterfactuals of positive calls.
CREATE VIEW dashboard.reports AS
SELECT id, study_id, report_id, processed_at, findings, impression, generated_impression, summarizer_version,
       observations, impression_disagreements AS disagreements
FROM reports;

CREATE VIEW dashboard.films AS
SELECT i.id, i.study_id, i.image_id, i.processed_at, i.format, i.width, i.height, i.generated_impression AS captioner_impression,
       i.captioner_version, i.generated_states_pneumonia AS captioner_states_pneumonia, p.side, p.pixels
FROM images i LEFT JOIN image_pixels p ON p.image_id = i.id AND p.side = (SELECT max(side) FROM image_pixels q WHERE q.image_id = i.id);

CREATE VIEW dashboard.predictions AS
SELECT p.image_id, i.study_id, i.processed_at, p.model, p.model_version, p.probabilities, p.decision, p.applicable,
       p.applicability, p.saliency_png
FROM image_predictions p JOIN images i ON i.id = p.image_id;

CREATE VIEW dashboard.counterfactuals AS
SELECT image_id, model, model_version, explainer_version, status, from_class, to_class, probability_before,
       probability_after, flipped, l1, changed_fraction, counterfactual_png, difference_png, error, made_at
FROM counterfactual_explanations;

-- One line per study: when it came, what it holds, what the pneumonia model called, which
-- model versions read it, and whether anything disagrees.
CREATE VIEW dashboard.studies AS
WITH content AS (
    SELECT study_id, min(processed_at) AS first_seen, max(processed_at) AS last_seen,
           count(*) FILTER (WHERE kind = 'image') AS images, count(*) FILTER (WHERE kind = 'report') AS reports
    FROM (SELECT study_id, processed_at, 'image' AS kind FROM images
          UNION ALL SELECT study_id, processed_at, 'report' FROM reports) AS rows
    GROUP BY study_id
)
SELECT c.study_id, c.first_seen, c.last_seen, c.images, c.reports,
       EXISTS (SELECT 1 FROM image_predictions p JOIN images i ON i.id = p.image_id
               WHERE i.study_id = c.study_id AND p.model = 'pneumonia' AND p.decision = 'pneumonia'
                 AND p.applicable IS DISTINCT FROM false) AS pneumonia_called,
       ARRAY(SELECT DISTINCT p.model || ' ' || p.model_version FROM image_predictions p JOIN images i ON i.id = p.image_id
             WHERE i.study_id = c.study_id ORDER BY 1) AS model_versions,
       EXISTS (SELECT 1 FROM dashboard.report_image_discrepancies d
               WHERE d.study_id = c.study_id AND (d.image_model_disagrees OR d.captioner_disagrees)) AS report_image_disagree,
       EXISTS (SELECT 1 FROM reports r
               WHERE r.study_id = c.study_id AND jsonb_array_length(r.impression_disagreements) > 0) AS summarizer_disagrees
FROM content c;

-- The time ranges dashboards ask for.
CREATE INDEX images_processed_at ON images (processed_at);
CREATE INDEX reports_processed_at ON reports (processed_at);
CREATE INDEX dead_letters_created_at ON dead_letters (created_at);
