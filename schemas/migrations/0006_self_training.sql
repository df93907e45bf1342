-- Self-training: every version of an image model with its parent, figures and weights, which
-- one each model serves now, every change of that, and every round with its decision.

-- One row per version of a model. The weights are the safetensors file itself, so that every
-- instance of the daemon, on any machine, loads a promoted version from here.
CREATE TABLE model_registry (
    model text NOT NULL,
    version text NOT NULL,
    -- The version it was trained from (a round's teacher); NULL for a model trained from labels alone.
    parent_version text,
    origin text NOT NULL CHECK (origin IN ('trained', 'self-training')),
    -- active: served now (one per model); retired: served before; candidate: made by a round
    -- the gate rejected, kept so that a person may still promote it.
    status text NOT NULL CHECK (status IN ('active', 'retired', 'candidate')),
    -- Validation figures (AUC, accuracy, ECE, NLL) as the gate read them.
    metrics jsonb NOT NULL,
    weights bytea NOT NULL,
    weights_sha256 text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (model, version)
);
CREATE UNIQUE INDEX model_registry_one_active ON model_registry (model) WHERE status = 'active';

-- Every change of the served version, by whom: a round's promotion, or a person's promote or
-- rollback. A rollback returns to the version served before the current one.
CREATE TABLE model_activations (
    id bigserial PRIMARY KEY,
    model text NOT NULL,
    version text NOT NULL,
    previous_version text,
    cause text NOT NULL CHECK (cause IN ('registered', 'self-training', 'promote', 'rollback')),
    activated_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (model, version) REFERENCES model_registry (model, version)
);

-- Every self-training round: when, on what, both models' figures, the decision and why.
CREATE TABLE self_training_rounds (
    id bigserial PRIMARY KEY,
    model text NOT NULL,
    consumer_group text NOT NULL,
    trigger text NOT NULL CHECK (trigger IN ('new-images', 'interval', 'manual')),
    started_at timestamptz NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT now(),
    duration_seconds double precision NOT NULL,
    labeled_images integer NOT NULL,
    unlabeled_images integer NOT NULL,
    -- The newest unlabeled image the round could see (images.id): the next round counts new images from here.
    last_image_id bigint NOT NULL,
    steps integer NOT NULL,
    teacher_version text NOT NULL,
    candidate_version text,
    teacher_metrics jsonb,
    candidate_metrics jsonb,
    decision text NOT NULL CHECK (decision IN ('promoted', 'rejected', 'failed')),
    reason text NOT NULL
);
CREATE INDEX self_training_rounds_model ON self_training_rounds (model, id);
