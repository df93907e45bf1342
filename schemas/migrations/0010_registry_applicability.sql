-- Each registered version's applicability gate (ApplicabilityGate's checkpoint) and its
-- population check's classifier (a classifier checkpoint), as the model folder keeps them in
-- applicability.safetensors and applicability-population.safetensors: a version swapped in from
-- the registry (a promotion, a rollback) brings its own gate, so its predictions are judged as
-- the shipped version's are. NULL for a version registered without one (its films are not
-- judged). The digest covers both, as weights_sha256 covers the weights: a gate altered in the
-- table is refused rather than used.
ALTER TABLE model_registry ADD COLUMN applicability bytea;
ALTER TABLE model_registry ADD COLUMN applicability_population bytea;
ALTER TABLE model_registry ADD COLUMN applicability_sha256 text;
ALTER TABLE model_registry ADD CONSTRAINT model_registry_applicability_digest
    CHECK ((applicability IS NULL) = (applicability_sha256 IS NULL)
           AND (applicability_population IS NULL OR applicability IS NOT NULL));
