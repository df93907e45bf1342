-- What the image classifiers said about each image: one row per image and model, with the model
-- version that said it (self-training replaces models; a prediction keeps its author), the
-- calibrated probabilities, the decision at the threshold chosen on validation, and the Grad-CAM
-- map of that decision as a greyscale PNG at the model's input side.
CREATE TABLE image_predictions (
    image_id bigint NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    model text NOT NULL,
    model_version text NOT NULL,
    probabilities jsonb NOT NULL,
    decision text NOT NULL,
    saliency_png bytea NOT NULL,
    PRIMARY KEY (image_id, model)
);
-- Dashboards count decisions per model and version.
CREATE INDEX image_predictions_decision ON image_predictions (model, model_version, decision);
