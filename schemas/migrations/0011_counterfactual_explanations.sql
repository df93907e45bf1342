-- The counterfactual explanation of an image a classifier called positive: the joint diffusion
-- model's film of the same patient toward the other class, and what changed. Made by the
-- daemon's background worker, which takes the positive predictions that have none yet
-- (SELECT … FOR UPDATE SKIP LOCKED on image_predictions, inside the transaction that writes this
-- row: several instances share the work, none does an image twice, and a worker killed mid-way
-- leaves its images to be taken again). 'failed' records an image the explainer could not read,
-- so that it is not tried forever.
CREATE TABLE counterfactual_explanations (
    image_id bigint NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    -- The classifier whose positive call is explained, and the version that made the call.
    model text NOT NULL,
    model_version text NOT NULL,
    -- The joint diffusion model that made the counterfactual.
    explainer_version text NOT NULL,
    status text NOT NULL CHECK (status IN ('done', 'failed')),
    from_class text,
    to_class text,
    -- The joint head's calibrated probability of the finding for the film and its counterfactual.
    probability_before real,
    probability_after real,
    flipped boolean,
    -- Mean absolute change of intensity (0–1), and the share of pixels changed by more than 0.1.
    l1 real,
    changed_fraction real,
    counterfactual_png bytea,
    difference_png bytea,
    error text,
    made_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (image_id, model),
    FOREIGN KEY (image_id, model) REFERENCES image_predictions (image_id, model) ON DELETE CASCADE,
    CHECK ((status = 'done') = (counterfactual_png IS NOT NULL AND difference_png IS NOT NULL))
);
-- Positive calls, the worker's pending set (those without a row here).
CREATE INDEX image_predictions_by_decision ON image_predictions (model, decision, image_id);
