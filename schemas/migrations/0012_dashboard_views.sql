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
       (r.observations->>'Pneumonia' IN ('positive', 'uncertain') OR r.observations->>'Consolidation' = 'positive')
           IS DISTINCT FROM (p.decision = 'pneumonia') AS image_model_disagrees,
       (r.observations->>'Pneumonia' IN ('positive', 'uncertain') OR r.observations->>'Consolidation' = 'positive')
           IS DISTINCT FROM i.generated_states_pneumonia AS captioner_disagrees
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

-- The time ranges dashboards ask for.
CREATE INDEX images_processed_at ON images (processed_at);
CREATE INDEX reports_processed_at ON reports (processed_at);
CREATE INDEX dead_letters_created_at ON dead_letters (created_at);
