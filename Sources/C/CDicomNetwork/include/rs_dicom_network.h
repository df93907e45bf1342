// The thin C face of DCMTK's network module: a Storage SCP (C-ECHO, C-STORE) whose every
// received instance is handed to a callback, which decides the status the sender is answered.
#ifndef RS_DICOM_NETWORK_H
#define RS_DICOM_NETWORK_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What the gateway needs of a received instance, read from the file's header. Empty strings
   for absent attributes; lengths fit the largest value DICOM allows for each VR. */
typedef struct rs_dicom_instance {
    char calling_ae_title[17];
    char sop_class_uid[65];
    char sop_instance_uid[65];
    char study_instance_uid[65];
    char series_instance_uid[65];
    char accession_number[17];
    char patient_id[65];
    char patient_name[325];
    char modality[17];
    char view_position[17];
    char body_part_examined[65];
    char transfer_syntax_uid[65];
    int rows;
    int columns;
    int has_pixel_data;
} rs_dicom_instance;

/* Called for each C-STORE, on the association's own thread, after the dataset has been written
   to `path` (a Part 10 file under the spool directory, exactly as received). The handler moves
   or removes the file and returns the DIMSE status to answer (0 success); with a failure it
   writes the reason, sent back as the response's Error Comment, into `comment`. */
typedef uint16_t (*rs_store_handler)(void *context, const char *path, const rs_dicom_instance *instance,
                                     char *comment, size_t comment_capacity);

typedef struct rs_scp_options {
    const char *ae_title;
    uint16_t port;
    /* Calling AE titles accepted; none: any. */
    const char *const *calling_ae_titles;
    size_t calling_ae_title_count;
    /* Storage SOP classes accepted (Verification is always). */
    const char *const *sop_classes;
    size_t sop_class_count;
    /* Transfer syntaxes accepted for them, in the order preferred. */
    const char *const *transfer_syntaxes;
    size_t transfer_syntax_count;
    /* Where datasets are received before the handler sees them. */
    const char *spool_directory;
    unsigned max_associations;
    /* ACSE and DIMSE timeout: a peer silent for this long loses its association. */
    unsigned timeout_seconds;
} rs_scp_options;

typedef struct rs_scp rs_scp;

/* NULL with a message in `error` when the options are refused. */
rs_scp *rs_scp_create(const rs_scp_options *options, rs_store_handler handler, void *context,
                      char *error, size_t error_capacity);
/* Opens the port and serves associations until rs_scp_stop; 0 when stopped, non-zero with a
   message in `error` when the port cannot be opened. */
int rs_scp_listen(rs_scp *scp, char *error, size_t error_capacity);
/* Stops accepting, lets the associations in hand finish, and returns once rs_scp_listen has. */
void rs_scp_stop(rs_scp *scp);
void rs_scp_destroy(rs_scp *scp);

/* A Storage SCU: one association to a destination AE, on which each file is sent by C-STORE. */
typedef struct rs_scu_options {
    const char *calling_ae_title;
    const char *called_ae_title;
    const char *host;
    uint16_t port;
    unsigned timeout_seconds;
} rs_scu_options;

/* Sends `count` Part 10 files of `sop_class_uid` in their own transfer syntax; writes each
   file's DIMSE status to `statuses`. 0 when the association ran (some statuses may still be
   failures); non-zero with a message in `error` when it could not be opened or broke. */
int rs_scu_store(const rs_scu_options *options, const char *sop_class_uid, const char *const *paths, size_t count,
                 uint16_t *statuses, char *error, size_t error_capacity);

#ifdef __cplusplus
}
#endif
#endif
