-- Whether the model that made a prediction is fit to read that film at all (its applicability
-- gate, fitted for that model version): applicable, and the score (0 to 1: the share of the
-- model's training films lying farther from what it was trained on). NULL where the version
-- served has no gate — not judged. A prediction marked not applicable is kept, but a dashboard
-- must not count it as a finding.
ALTER TABLE image_predictions ADD COLUMN applicable boolean;
ALTER TABLE image_predictions ADD COLUMN applicability real;
-- Dashboards count decisions per model and version among the applicable ones.
CREATE INDEX image_predictions_applicable ON image_predictions (model, model_version, decision) WHERE applicable;
