#!/usr/bin/env python3
"""Developer tool: writes Tests/SummarizationTests/Fixtures/rouge_golden.json — NLTK's Porter stems
(the default NLTK_EXTENSIONS mode, which rouge-score uses) for a hand-written word list, and
Google rouge-score's ROUGE-1/2/L F1 (use_stemmer=True) for hand-written sentence pairs. Not run by
the tests; `pip install rouge-score` first. No word or sentence here comes from the shared data."""
import json
import pathlib

from nltk.stem import porter
from rouge_score import rouge_scorer

WORDS = """
caresses ponies ties caress cats feed agreed disabled matting mating meeting milling messing meetings
happy sky skies dying lying tying news innings outings cannings proceed exceed succeed
relational conditional rational valenci hesitanci digitizer conformabli radicalli differentli vileli
analogousli vietnamization predication operator feudalism decisiveness hopefulness callousness
formaliti sensitiviti sensibiliti triplicate formative formalize electriciti electrical hopeful goodness
revival allowance inference airliner gyroscopic adjustable defensible irritant replacement adjustment
dependent adoption homologou communism activate angulariti homologous effective bowdlerize
probate rate cease controll roll generalization oscillators generously fully geology theology archaeology
effusion effusions opacity opacities consolidation consolidations atelectasis atelectatic cardiomegaly
enlarged enlargement pneumothorax pneumothoraces pulmonary vascular congestion edema interstitial
prominence prominent mediastinal silhouette contours unremarkable degenerative changes thoracic spine
calcified granuloma granulomas nodule nodules infiltrate infiltrates infiltration airspace disease
bilateral bilaterally basilar subsegmental hyperinflation hyperinflated flattening hemidiaphragms
sternotomy wires pacemaker catheter terminating projecting overlying visualized identified appears
normal normally abnormality abnormalities acute chronic stable unchanged interval increased decreased
worsening improving improvement resolution resolved clearing probable possibly likely suggestive
""".split()

PAIRS = [
    ("No acute cardiopulmonary abnormality.", "No acute cardiopulmonary disease."),
    ("Mild cardiomegaly. No focal consolidation.", "Cardiomegaly without focal consolidation or effusion."),
    ("Stable calcified granulomas in the right upper lobe.", "Calcified granuloma, right upper lobe, unchanged."),
    ("Small bilateral pleural effusions with bibasilar atelectasis.", "Bilateral pleural effusions and atelectasis at both bases."),
    ("The lungs are clear.", ""),
    ("", "Normal chest."),
    ("Heart size normal; lungs clear; no pneumothorax.", "heart size is normal. Lungs are clear. No pneumothorax!"),
    ("1. Interval improvement of the left lower lobe opacity. 2. No new infiltrate.",
     "Left lower lobe opacity has improved since the prior examination, without a new infiltrate."),
    ("Hyperinflated lungs consistent with emphysema.", "Emphysematous hyperinflation."),
    ("the the the cat", "the cat the"),
]


def main():
    stemmer = porter.PorterStemmer()
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    golden = {
        "stems": {word: stemmer.stem(word) for word in WORDS},
        "pairs": [
            {"reference": reference, "prediction": prediction,
             **{name: score.fmeasure for name, score in scorer.score(reference, prediction).items()}}
            for reference, prediction in PAIRS
        ],
    }
    out = pathlib.Path(__file__).resolve().parent.parent / "Tests/SummarizationTests/Fixtures/rouge_golden.json"
    out.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")
    print(f"wrote {out}: {len(golden['stems'])} stems, {len(golden['pairs'])} pairs")


if __name__ == "__main__":
    main()
