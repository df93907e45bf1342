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
            #"(?:heart|heart size|cardiac silhouette|cardiac shadow)(?: xxxx)?(?: is| appears| remains| are)?(?: again| still)?(?: mildly| moderately| markedly| severely| slightly| somewhat)? (?:enlarged|increased|large)"#,
        ],
        .consolidation: [#"consolidat(?:ion|ions|ed|ive)"#],
        .edema: [
            #"edema"#, #"congestion"#, #"heart failure"#, #"chf"#, #"(?:prominent|increased|engorged) (?:central )?(?:pulmonary )?vascula(?:rity|ture)"#,
            #"(?:pulmonary )?vascularity (?:is |appears )?(?:prominent|increased|engorged)"#,
        ],
        .enlargedCardiomediastinum: [
            #"(?:widened|widening of the|enlarged) (?:mediastinum|cardiomediastinal silhouette|mediastinal silhouette)"#,
            #"mediastinal widening"#,
            #"(?:mediastinum|cardiomediastinal silhouette|mediastinal silhouette|mediastinal contours?)(?: is| are| appears)?(?: mildly)? (?:widened|enlarged|prominent)"#,
        ],
        .fracture: [#"fractures?"#, #"fractured"#],
        .lungLesion: [
            #"nodules?"#, #"nodular (?:density|densities|opacity|opacities|opacification)"#, #"masse?s?"#, #"lump"#,
            #"cavitary lesions?"#, #"carcinoma"#, #"neoplasms?"#, #"tumou?rs?"#, #"metasta(?:sis|ses|tic)"#,
        ],
        .lungOpacity: [
            #"opacit(?:y|ies)"#, #"opacification"#, #"infiltrat(?:e|es|ion|ive)"#, #"air ?space (?:disease|opacit(?:y|ies)|process)"#,
            #"haziness"#, #"hazy"#, #"densit(?:y|ies)"#, #"(?:interstitial|reticular|reticulonodular) (?:markings|pattern|opacities|prominence)"#,
        ],
        .pleuralEffusion: [
            #"(?<!pericardial )effusions?"#, #"pleural fluid"#, #"blunting of the (?:\w+ )?costophrenic"#,
            #"costophrenic (?:\w+ )?blunting"#, #"blunted (?:\w+ )?costophrenic"#,
        ],
        .pleuralOther: [#"pleural (?:thickening|scarring|plaques?|calcifications?)"#, #"fibrothorax"#, #"pleural-parenchymal scarring"#],
        .pneumonia: [#"pneumonias?"#, #"infection"#, #"infectious (?:process|etiology)"#],
        .pneumothorax: [#"pneumothora(?:x|ces)"#],
        .supportDevices: [
            #"pacemaker"#, #"defibrillator"#, #"aicd"#, #"catheters?"#, #"picc"#, #"(?:central|venous|midline|swan-ganz) (?:line|catheter)"#,
            #"endotracheal tube"#, #"(?:nasogastric|orogastric|enteric|feeding|chest|tracheostomy) tubes?"#, #"ng tube"#, #"et tube"#,
            #"port-?a-?cath"#, #"(?:chest wall |venous )?port"#, #"stents?"#, #"(?:medical )?devices?"#, #"hardware"#,
            #"sternotomy"#, #"surgical clips"#, #"valve (?:replacement|prosthesis)"#, #"prosthetic (?:\w+ )?valve"#, #"icd"#,
            #"(?:monitor |pacer |pacemaker )?leads"#, #"stimulator"#, #"(?:internal )?fixation"#, #"tip (?:is |in |at |projects|overlies|terminates)"#,
        ],
    ]

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
    /// Phrases whose "no" or "not" speaks of change, not of the finding: removed before looking for negation.
    static let pseudoNegation = [
        #"no (?:significant |interval |appreciable |substantial )?change"#, #"not (?:significantly )?changed"#,
        #"no (?:significant )?(?:interval )?(?:increase|decrease)"#, #"not only"#, #"no longer"#, #"without change"#,
    ]
    /// Words that end a negation's or uncertainty's reach within a sentence.
    static let clauseBreaks = [
        #"\bbut\b"#, #"\bhowever\b"#, #"\balthough\b"#, #"\bthough\b"#, #"\bexcept\b"#, #"\baside from\b"#, #"\bapart from\b"#,
        #"\bwhich\b"#, #";"#, #"\band (?:the|there|a|an)\b"#, #"\bwith (?:the|a|an)\b"#, #":"#,
    ]
}
