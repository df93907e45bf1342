// RadStream's findings for one image as a Comprehensive SR, built with DCMTK's dcmsr:
//
//   CONTAINER (18748-4, LN, "Diagnostic imaging report")
//     CONTAINS IMAGE  the image read
//     CONTAINS CONTAINER (121071, DCM, "Finding"), one per classifier
//       TEXT (111001, DCM, "Algorithm Name"), TEXT (111003, DCM, "Algorithm Version")
//       TEXT (DECISION, 99RADSTREAM, "Decision")
//       NUM  (P-<finding>, 99RADSTREAM, "Probability of <finding>"), unit (1, UCUM, "no units")
//       TEXT (APPLICABLE, 99RADSTREAM, "Model applicable to this image") [+ NUM its score]
//     CONTAINS CONTAINER (121072, DCM, "Impressions")
//       TEXT (121073, DCM, "Impression"), the captioner's; TEXT its algorithm name and version
//
// The codes RadStream coins are in a private scheme ("99" designators are local by PS3.16).
#include "rs_dicom_report.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmsr/dsrdoc.h>
#include <dcmtk/oflog/oflog.h>

#include <cstdio>
#include <exception>
#include <string>

namespace {

const char *const scheme = "99RADSTREAM";

std::string text(const char *value) { return value ? value : ""; }

struct Failure {
    std::string message;
};

void check(OFCondition condition, const char *what) {
    if (condition.bad()) throw Failure{std::string(what) + ": " + condition.text()};
}

class Builder {
public:
    explicit Builder(DSRDocumentTree &tree) : tree(tree) {}

    void add(DSRTypes::E_RelationshipType relation, DSRTypes::E_ValueType type, DSRTypes::E_AddMode mode,
             const DSRCodedEntryValue &concept, const char *what) {
        if (tree.addContentItem(relation, type, mode) == 0) throw Failure{std::string("cannot add ") + what};
        if (!concept.isEmpty()) check(tree.getCurrentContentItem().setConceptName(concept), what);
    }

    void text(DSRTypes::E_AddMode mode, const DSRCodedEntryValue &concept, const std::string &value, const char *what) {
        add(DSRTypes::RT_contains, DSRTypes::VT_Text, mode, concept, what);
        check(tree.getCurrentContentItem().setStringValue(value.empty() ? "(none)" : value.c_str()), what);
    }

    void number(DSRTypes::E_AddMode mode, const DSRCodedEntryValue &concept, double value, const char *what) {
        add(DSRTypes::RT_contains, DSRTypes::VT_Num, mode, concept, what);
        char formatted[32];
        std::snprintf(formatted, sizeof formatted, "%.4f", value);
        check(tree.getCurrentContentItem().setNumericValue(
                  DSRNumericMeasurementValue(formatted, DSRCodedEntryValue("1", "UCUM", "no units"))), what);
    }

    DSRDocumentTree &tree;
};

void build(const rs_sr_document &input, const std::string &path) {
    DSRDocument document(DSRTypes::DT_ComprehensiveSR);
    check(document.createNewSeriesInStudy(input.study_instance_uid), "study");
    check(document.setPatientID(text(input.patient_id).c_str()), "patient id");
    check(document.setPatientName(text(input.patient_name).c_str()), "patient name");
    check(document.setAccessionNumber(text(input.accession_number).c_str()), "accession number");
    check(document.setManufacturer("RadStream"), "manufacturer");
    check(document.setSeriesDescription("RadStream image findings"), "series description");
    check(document.getCurrentRequestedProcedureEvidence().addItem(
              input.study_instance_uid, input.image_series_instance_uid, input.image_sop_class_uid, input.image_sop_instance_uid),
          "evidence");

    Builder tree(document.getTree());
    tree.add(DSRTypes::RT_isRoot, DSRTypes::VT_Container, DSRTypes::AM_afterCurrent,
             DSRCodedEntryValue("18748-4", "LN", "Diagnostic imaging report"), "the root");
    tree.add(DSRTypes::RT_contains, DSRTypes::VT_Image, DSRTypes::AM_belowCurrent, DSRCodedEntryValue(), "the image");
    check(tree.tree.getCurrentContentItem().setImageReference(
              DSRImageReferenceValue(input.image_sop_class_uid, input.image_sop_instance_uid)), "the image reference");

    for (size_t index = 0; index < input.model_count; index++) {
        const rs_sr_model &model = input.models[index];
        tree.add(DSRTypes::RT_contains, DSRTypes::VT_Container, DSRTypes::AM_afterCurrent,
                 DSRCodedEntryValue("121071", "DCM", "Finding"), "a finding");
        tree.text(DSRTypes::AM_belowCurrent, DSRCodedEntryValue("111001", "DCM", "Algorithm Name"), text(model.name), "algorithm name");
        tree.text(DSRTypes::AM_afterCurrent, DSRCodedEntryValue("111003", "DCM", "Algorithm Version"), text(model.version), "algorithm version");
        tree.text(DSRTypes::AM_afterCurrent, DSRCodedEntryValue("DECISION", scheme, "Decision"), text(model.decision), "decision");
        for (size_t p = 0; p < model.probability_count; p++) {
            const std::string finding = text(model.probabilities[p].finding);
            // Code values are at most 16 characters (SH).
            tree.number(DSRTypes::AM_afterCurrent,
                        DSRCodedEntryValue(("P-" + finding).substr(0, 16).c_str(), scheme, ("Probability of " + finding).c_str()),
                        model.probabilities[p].probability, "probability");
        }
        const char *applicable = model.applicable > 0 ? "yes" : model.applicable == 0 ? "no" : "not assessed";
        tree.text(DSRTypes::AM_afterCurrent, DSRCodedEntryValue("APPLICABLE", scheme, "Model applicable to this image"),
                  applicable, "applicability");
        if (model.applicable >= 0)
            tree.number(DSRTypes::AM_afterCurrent, DSRCodedEntryValue("APPLICABILITY", scheme, "Applicability score"),
                        model.applicability, "applicability score");
        tree.tree.goUp();
    }
    if (input.impression) {
        tree.add(DSRTypes::RT_contains, DSRTypes::VT_Container, DSRTypes::AM_afterCurrent,
                 DSRCodedEntryValue("121072", "DCM", "Impressions"), "the impressions");
        tree.text(DSRTypes::AM_belowCurrent, DSRCodedEntryValue("121073", "DCM", "Impression"), text(input.impression), "impression");
        tree.text(DSRTypes::AM_afterCurrent, DSRCodedEntryValue("111001", "DCM", "Algorithm Name"), "captioner", "captioner");
        tree.text(DSRTypes::AM_afterCurrent, DSRCodedEntryValue("111003", "DCM", "Algorithm Version"),
                  text(input.impression_model_version), "captioner version");
        tree.tree.goUp();
    }

    DcmFileFormat file;
    DcmDataset *dataset = file.getDataset();
    check(document.write(*dataset), "writing the document");
    // The identity the outbox gave this result, so that writing it again writes the same instance.
    check(dataset->putAndInsertString(DCM_SeriesInstanceUID, input.series_instance_uid), "series UID");
    check(dataset->putAndInsertString(DCM_SOPInstanceUID, input.sop_instance_uid), "instance UID");
    check(file.saveFile(path.c_str(), EXS_LittleEndianExplicit), "saving");
}

}  // namespace

extern "C" int rs_sr_write(const rs_sr_document *document, const char *path, char *error, size_t error_capacity) {
    try {
        OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
        build(*document, path);
        return 0;
    } catch (const Failure &failure) {
        std::snprintf(error, error_capacity, "SR: %s", failure.message.c_str());
    } catch (const std::exception &exception) {
        std::snprintf(error, error_capacity, "SR: DCMTK: %s", exception.what());
    } catch (...) {
        std::snprintf(error, error_capacity, "SR: DCMTK: an unknown C++ exception");
    }
    return 1;
}
