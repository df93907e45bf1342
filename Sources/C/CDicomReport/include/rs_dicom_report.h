// The thin C face of DCMTK's dcmsr: RadStream's findings for one image as a DICOM Comprehensive
// Structured Report that references it.
#ifndef RS_DICOM_REPORT_H
#define RS_DICOM_REPORT_H
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rs_sr_probability {
    const char *finding;
    double probability;
} rs_sr_probability;

/* One classifier's reading of the image. */
typedef struct rs_sr_model {
    const char *name;
    const char *version;
    const char *decision;
    const rs_sr_probability *probabilities;
    size_t probability_count;
    /* 1 applicable, 0 not, -1 not assessed (no gate for this version). */
    int applicable;
    double applicability;
} rs_sr_model;

typedef struct rs_sr_document {
    /* The SR's own identity: its series and instance (the study is the image's). */
    const char *series_instance_uid;
    const char *sop_instance_uid;
    /* The image it reads. */
    const char *study_instance_uid;
    const char *image_series_instance_uid;
    const char *image_sop_class_uid;
    const char *image_sop_instance_uid;
    /* Who and what it belongs to, copied from the image (empty when unknown). */
    const char *patient_id;
    const char *patient_name;
    const char *accession_number;
    const rs_sr_model *models;
    size_t model_count;
    /* The captioner's impression and its version, or NULL. */
    const char *impression;
    const char *impression_model_version;
} rs_sr_document;

/* Writes the SR as a DICOM Part 10 file at `path`; 0 on success, non-zero with a message in `error`. */
int rs_sr_write(const rs_sr_document *document, const char *path, char *error, size_t error_capacity);

#ifdef __cplusplus
}
#endif
#endif
