import Foundation

/// The words that name each observation, and those that negate it or make it uncertain: the
/// CheXpert labeler's approach (mentions and their synonyms, then negation and uncertainty
/// around each), with NegEx-style triggers in place of NegBio's dependency parse.
enum MentionRules {
    /// Patterns (case-insensitive regular expressions, word-bounded by the caller) naming each
    /// observation. Phrases that state the observation is normal are in `normalPhrases`.
    static let mentions: [Observation: [String]] = [
        .atelectasis: [#"atelecta(?:sis|ses|tic)"#, #"(?:lobar |segmental )?collapse"#],
        .cardiomegaly: [
            #"cardiomegaly"#, #"(?:enlarged|enlargement of the) (?:heart|cardiac silhouette|cardiac shadow)"#,
            #"cardiac enlargement"#,
            // "XXXX" is IU's de-identification: it stands for words the rules cannot see.
            #"(?:heart|heart size|cardiac silhouette|cardiac shadow)(?: xxxx)?(?: is| appears| remains| are)?(?: again| still| persistently)?(?: mildly| moderately| markedly| severely| slightly| somewhat)? (?:enlarged|increased|large)"#,
            #"increased? (?:in )?(?:heart size|cardiac size|the size of the heart)"#,
            // CheXpert reads "heart size" as a mention: "borderline heart size" is an uncertain one
            // (the word "borderline" stays outside the match, where it is the uncertainty).
            #"(?<=borderline )(?:enlarged )?(?:heart size|heart|cardiac silhouette|cardiac size|cardiac contour|cardiac shadow)"#,
            #"(?:heart|heart size|cardiac silhouette|cardiac size|cardiac contour)(?=(?: xxxx)?(?: is| appears| remains)?(?: at)? borderline)"#,
        ],
        .consolidation: [#"consolidat(?:ion|ions|ed|ive)"#],
        .edema: [
            #"edema"#, #"congestion"#, #"heart failure"#, #"chf"#, #"(?:prominent|increased|engorged) (?:central )?(?:pulmonary |lung )?vascula(?:rity|ture)"#,
            #"(?:pulmonary )?vascularity (?:is |appears )?(?:prominent|increased|engorged)"#, #"(?:central )?vascular prominence"#,
            #"(?:pulmonary )?(?:xxxx|vessels|vasculature) (?:are|is) engorged"#, #"pulmonary venous hypertension"#,
        ],
        .enlargedCardiomediastinum: [
            #"(?:widened|widening of the|enlarged) (?:mediastinum|cardiomediastinal silhouette|mediastinal silhouette)"#,
            #"mediastinal widening"#, #"(?:right )?paratracheal (?:prominence|fullness)"#,
            #"(?:prominence|widening|enlargement) of the (?:\w+ )?(?:mediastinum|mediastinal (?:silhouette|contours?)|cardiomediastinal silhouette)"#,
            #"(?:widened|enlarged|prominent) (?:upper |superior )(?:mediastinum|mediastinal (?:silhouette|contours?))"#,
            #"(?:mediastinum|cardiomediastinal silhouette|mediastinal silhouette|mediastinal contours?)(?: is| are| appears)?(?: mildly| somewhat| slightly)? (?:widened|enlarged|prominent)"#,
        ],
        .fracture: [#"fractures?"#, #"fractured"#],
        .lungLesion: [
            #"nodules?"#, #"nodular (?:density|densities|opacity|opacities|opacification)"#, #"masse?s?"#, #"mass-?like"#, #"lump"#,
            #"cavitary lesions?"#, #"carcinoma"#, #"neoplasms?"#, #"tumou?rs?"#, #"metasta(?:sis|ses|tic)"#,
        ],
        .lungOpacity: [
            #"opacit(?:y|ies)"#, #"opacification"#, #"infiltrat(?:e|es|ion|ive)"#, #"air ?space (?:disease|opacit(?:y|ies)|process)"#,
            #"haziness"#, #"hazy"#, #"(?:increased|airspace|air space|parenchymal|patchy|hazy|ill-defined|streaky|linear|focal) densit(?:y|ies)"#,
            #"densit(?:y|ies) (?:in|within|at|of|over) the (?:\w+ )?(?:lungs?|lobes?|base|bases|lingula|midlung|apex)"#, #"(?:interstitial|reticular|reticulonodular) (?:markings|pattern|opacities|prominence)"#,
            // CheXpert's Lung Opacity also holds interstitial disease and scarring of the lung (a
            // pleural scar is Pleural Other).
            #"interstitial lung disease"#, #"reticulation"#, #"peribronchial (?:wall )?thickening"#, #"(?<!pleural )(?<!pleural-parenchymal )scar(?:ring|s)?"#,
        ],
        .pleuralEffusion: [
            #"(?<!pericardial )effusions?"#, #"pleural fluid"#, #"blunting of the (?:\w+ )?costophrenic"#,
            #"costophrenic (?:\w+ )?blunting"#, #"blunted (?:\w+ )?costophrenic"#,
        ],
        .pleuralOther: [
            // CheXpert's Pleural Other: thickening and scars of the pleura (a plaque or calcification
            // is one of the other findings; an apical scar is the lung's, a Lung Opacity).
            #"pleural (?:thickening|scarring|scars?)"#, #"fibrothorax"#, #"pleural-(?:parenchymal|peripheral) scarring"#,
            #"apical (?:pleural )?capping"#, #"(?:biapical|apical) (?:fibronodular )?(?:pleural )?thickening"#,
            #"fissural thickening"#, #"thickening (?:of|in) the (?:\w+ )?fissure"#,
        ],
        // An old granulomatous or tuberculous infection is a scar of one, not a pneumonia.
        .pneumonia: [#"pneumonias?"#, #"(?<!granulomatous )(?<!tuberculous )(?<!tuberculosis )infection"#, #"infectious (?:process|etiology)"#],
        .pneumothorax: [#"pneumothora(?:x|ces)"#],
        // What is placed in or on the patient, CheXpert's list of devices and hardware. A
        // sternotomy is the operation, not a device (CheXpert does not list it, nor does MeSH index it).
        .supportDevices: [
            #"pacemaker"#, #"pacer"#, #"defibrillator"#, #"aicd"#, #"catheters?"#, #"picc"#, #"(?:central|venous|midline|swan-ganz|picc|arterial|dialysis) lines?"#,
            #"lines and tubes"#, #"tubes and lines"#, #"tubes?"#, #"port-?a-?cath"#, #"(?:chest wall |venous )?port"#, #"mediport"#,
            #"stents?"#, #"(?:medical )?devices?"#, #"hardware"#, #"clips"#, #"generator"#, #"prosthe(?:sis|ses|tic)"#, #"arthroplasty"#,
            #"valve (?:replacement|prosthesis)"#, #"icd"#, #"coils?"#, #"markers?"#, #"filter"#, #"(?:bone )?anchors?"#, #"screws?"#,
            #"drains?"#, #"cannula"#, #"(?:monitor |pacer |pacemaker )?leads"#, #"(?:neuro)?stimulator"#, #"(?:internal )?fixation"#,
            #"tip (?:is |in |at |projects|overlies|terminates)"#,
        ],
    ]

    /// What else a chest film can show that makes it not normal, though none of the 13 findings:
    /// CheXpert's No Finding is positive only when none of these is mentioned positively or
    /// uncertainly either (its no_finding mention list, written here as patterns of our own).
    static let otherFindings = [
        #"emphysema(?:tous)?"#, #"blunt(?:ing|ed)"#, #"elevat(?:ed|ion)"#, #"eventration"#, #"(?:levo|dextro)?scoliosis"#,
        #"degenerat(?:ive|ion)"#, #"calcifi(?:ed|cation|cations)"#, #"hyperinflat(?:ed|ion)"#, #"hyperexpan(?:ded|sion)"#,
        #"hyperaerat(?:ed|ion)"#, #"bronchospasm"#, #"asthma"#, #"hernia"#, #"copd"#, #"plaques?"#, #"osteophyt(?:e|es|osis)"#,
        #"atherosclero(?:sis|tic)"#, #"osteopenia"#, #"granulom(?:a|as|ata|atous)"#, #"pneumomediastinum"#, #"pneumoperitoneum"#,
        #"cuffing"#, #"fissure"#, #"hypertension"#, #"prominen(?:t|ce)"#, #"kyphosis"#, #"kyphotic"#, #"bullae"#, #"bullous"#,
        #"bronchitis"#, #"bronchiolitis"#, #"bronchiectasis"#, #"volume loss"#, #"deformit(?:y|ies)"#, #"hemorrhage"#, #"hematoma"#,
        #"aspiration"#, #"contusion"#, #"thickening"#, #"cephalization"#, #"tortuous"#, #"tortuosity"#, #"ectatic"#, #"ectasia"#,
        #"spondylosis"#, #"arthritic"#, #"arthritis"#, #"fibrosis"#, #"fibrotic"#, #"scar(?:ring|s)?"#, #"aneurysm"#,
    ]

    /// An observation whose mention, inside a mention of the other, is the other's: CheXpert
    /// reads a nodular opacity as a Lung Lesion, not also a Lung Opacity.
    static let moreSpecific: [Observation: Observation] = [.lungOpacity: .lungLesion]

    /// Phrases that say an observation is normal: a negative mention of it.
    static let normalPhrases: [Observation: [String]] = [
        .cardiomegaly: [
            #"(?:normal|unremarkable) (?:heart size|heart|cardiac size|cardiac silhouette|size of the heart)"#,
            #"(?:heart|heart size|cardiac silhouette|cardiac size)(?: is| are| appears| remains)? (?:normal|unremarkable|within normal limits)"#,
            #"heart is normal in size"#, #"heart (?:size )?is not enlarged"#,
        ],
        .enlargedCardiomediastinum: [
            #"(?:normal|unremarkable) (?:cardiomediastinal|mediastinal) (?:silhouette|contours?|structures)"#,
            #"(?:cardiomediastinal silhouette|mediastinal silhouette|mediastinum|mediastinal contours?|cardiomediastinal contours?)(?: is| are| appears| remains)? (?:normal|unremarkable|within normal limits|stable|grossly normal)"#,
        ],
    ]

    /// Words before a mention, in its clause, that negate it.
    static let negationBefore = [
        #"no"#, #"not"#, #"without"#, #"negative for"#, #"free of"#, #"clear of"#, #"absence of"#, #"absent"#,
        #"resolution of"#, #"resolved"#, #"no evidence of"#, #"none"#, #"nor"#, #"ruled out"#, #"removal of"#, #"removed"#,
    ]
    /// Words after a mention, in its clause, that negate it.
    static let negationAfter = [
        #"(?:is|are|was|were|has been|have been)? ?not (?:seen|identified|visualized|present|evident|appreciated|demonstrated|noted|detected)"#,
        #"(?:has|have) (?:resolved|cleared)"#, #"resolved"#, #"no longer (?:seen|present|visualized)"#, #"(?:is|are) absent"#,
        #"(?:has|have) been removed"#,
    ]
    /// Words that make a mention uncertain, before it or after it in its clause. Checked before
    /// negation, so "cannot be excluded" is uncertain, not negative.
    static let uncertainty = [
        #"may"#, #"might"#, #"could"#, #"possible"#, #"possibly"#, #"probable"#, #"probably"#, #"likely"#, #"suspect(?:ed)?"#,
        #"suspicious"#, #"suggest(?:s|ed|ive|ing)?"#, #"concern(?:ing)? for"#, #"question(?:able)?"#, #"cannot (?:be )?exclude(?:d)?"#,
        #"can ?not be (?:excluded|ruled out)"#, #"not (?:be )?excluded"#, #"cannot rule out"#, #"not ruled out"#, #"versus"#, #"vs"#,
        #"differential"#, #"borderline"#, #"equivocal"#, #"considerations?"#, #"presum(?:ed|ably)"#, #"indeterminate"#,
        #"uncertain"#, #"upper limits? of normal"#, #"top normal"#, #"atypical"#, #"worrisome"#, #"cannot be entirely excluded"#,
    ]
    /// Phrases whose "no" or "not" speaks of change, not of the finding, and hedges that hedge
    /// nothing: removed before looking for negation and uncertainty.
    static let pseudoNegation = [
        #"no (?:significant |interval |appreciable |substantial )?change"#, #"not (?:significantly )?changed"#,
        #"no (?:significant )?(?:interval )?(?:increase|decrease)"#, #"not only"#, #"no longer"#, #"without change"#,
        // "No suspicious opacity" denies the opacity; "suspicious" hedges nothing there.
        #"(?<=\b(?:no|or|nor|without) )suspicious"#,
    ]
    /// Words that end a negation's or uncertainty's reach within a sentence.
    static let clauseBreaks = [
        #"\bbut\b"#, #"\bhowever\b"#, #"\balthough\b"#, #"\bthough\b"#, #"\bexcept\b"#, #"\baside from\b"#, #"\bapart from\b"#,
        #"\bwhich\b"#, #";"#, #"\band (?:the|there|a|an)\b"#, #"\bwith (?:the|a|an)\b"#, #":"#,
    ]
}
