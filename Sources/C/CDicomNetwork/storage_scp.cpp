// A Storage SCP on DCMTK's pool of association threads. Each association runs on a worker of
// its own; each C-STORE's dataset goes to a spool file as received (bit for bit, no transcoding),
// its identifiers are read from the file's header, and the handler's status is the answer.
#include "rs_dicom_network.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/diutil.h>
#include <dcmtk/dcmnet/scppool.h>
#include <dcmtk/dcmnet/scpthrd.h>
#include <dcmtk/oflog/oflog.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

void copyText(char *destination, size_t capacity, const std::string &text) {
    if (capacity == 0) return;
    std::snprintf(destination, capacity, "%s", text.c_str());
}

std::string trimmed(const OFString &text) {
    std::string value(text.c_str());
    while (!value.empty() && value.back() == ' ') value.pop_back();
    while (!value.empty() && value.front() == ' ') value.erase(value.begin());
    return value;
}

// The attributes the gateway needs, read without loading the pixel data (values longer than
// 4 KiB stay on disk).
OFCondition readInstance(const std::string &path, rs_dicom_instance &instance) {
    DcmFileFormat file;
    OFCondition status = file.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, 4096);
    if (status.bad()) return status;
    DcmDataset *dataset = file.getDataset();
    auto text = [dataset](const DcmTagKey &tag, char *destination, size_t capacity) {
        OFString value;
        if (dataset->findAndGetOFString(tag, value).good()) copyText(destination, capacity, trimmed(value));
    };
    text(DCM_SOPClassUID, instance.sop_class_uid, sizeof instance.sop_class_uid);
    text(DCM_SOPInstanceUID, instance.sop_instance_uid, sizeof instance.sop_instance_uid);
    text(DCM_StudyInstanceUID, instance.study_instance_uid, sizeof instance.study_instance_uid);
    text(DCM_SeriesInstanceUID, instance.series_instance_uid, sizeof instance.series_instance_uid);
    text(DCM_AccessionNumber, instance.accession_number, sizeof instance.accession_number);
    text(DCM_PatientID, instance.patient_id, sizeof instance.patient_id);
    text(DCM_PatientName, instance.patient_name, sizeof instance.patient_name);
    text(DCM_Modality, instance.modality, sizeof instance.modality);
    text(DCM_ViewPosition, instance.view_position, sizeof instance.view_position);
    text(DCM_BodyPartExamined, instance.body_part_examined, sizeof instance.body_part_examined);
    OFString syntax;
    if (file.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, syntax).good())
        copyText(instance.transfer_syntax_uid, sizeof instance.transfer_syntax_uid, trimmed(syntax));
    Uint16 value = 0;
    if (dataset->findAndGetUint16(DCM_Rows, value).good()) instance.rows = value;
    value = 0;
    if (dataset->findAndGetUint16(DCM_Columns, value).good()) instance.columns = value;
    instance.has_pixel_data = dataset->tagExists(DCM_PixelData) ? 1 : 0;
    return EC_Normal;
}

struct Settings {
    std::string aeTitle;
    std::vector<std::string> callingAETitles;
    std::string spoolDirectory;
    rs_store_handler handler;
    void *context;
};

class StoragePool;

// One association's thread. DcmThreadSCP negotiates (asking the two checks below) and calls
// handleIncomingCommand for every DIMSE message.
class StorageWorker : public DcmBaseSCPPool::DcmBaseSCPWorker, private DcmThreadSCP {
public:
    StorageWorker(DcmBaseSCPPool &pool, const Settings &settings) : DcmBaseSCPWorker(pool), settings(settings) {}

    OFCondition setSharedConfig(const DcmSharedSCPConfig &config) override { return DcmThreadSCP::setSharedConfig(config); }
    OFBool busy() override { return isConnected(); }
    OFCondition workerListen(T_ASC_Association *const association) override { return DcmThreadSCP::run(association); }

protected:
    OFBool checkCalledAETitleAccepted(const OFString &calledAE) override {
        return trimmed(calledAE) == settings.aeTitle;
    }

    OFBool checkCallingAETitleAccepted(const OFString &callingAE) override {
        if (settings.callingAETitles.empty()) return OFTrue;
        const std::string calling = trimmed(callingAE);
        for (const auto &accepted : settings.callingAETitles)
            if (accepted == calling) return OFTrue;
        return OFFalse;
    }

    OFCondition handleIncomingCommand(T_DIMSE_Message *message, const DcmPresentationContextInfo &context) override {
        if (message->CommandField == DIMSE_C_STORE_RQ) return store(message->msg.CStoreRQ, context.presentationContextID);
        return DcmThreadSCP::handleIncomingCommand(message, context);  // C-ECHO; anything else refused
    }

private:
    const Settings &settings;

    OFCondition store(T_DIMSE_C_StoreRQ &request, T_ASC_PresentationContextID presentation) {
        std::string path = settings.spoolDirectory + "/.receiving-XXXXXX";
        std::vector<char> pattern(path.begin(), path.end());
        pattern.push_back('\0');
        const int descriptor = mkstemp(pattern.data());
        if (descriptor < 0) {
            // Nowhere to put it: the dataset must still be read off the wire before answering.
            DcmDataset *discarded = nullptr;
            OFCondition received = receiveSTORERequest(request, presentation, discarded);
            delete discarded;
            if (received.bad()) return received;
            return respond(request, presentation, STATUS_STORE_Refused_OutOfResources,
                           std::string("cannot create a file in the spool directory: ") + std::strerror(errno));
        }
        close(descriptor);
        path.assign(pattern.data());

        OFCondition received = receiveSTORERequest(request, presentation, OFString(path.c_str()));
        if (received.bad()) {
            std::remove(path.c_str());
            return received;  // the association is lost; nothing was kept
        }

        rs_dicom_instance instance{};
        copyText(instance.calling_ae_title, sizeof instance.calling_ae_title, trimmed(getPeerAETitle()));
        Uint16 status;
        std::string comment;
        OFCondition read = readInstance(path, instance);
        if (read.bad()) {
            std::remove(path.c_str());
            status = STATUS_STORE_Error_CannotUnderstand;
            comment = std::string("not a readable DICOM dataset: ") + read.text();
        } else {
            char reason[256] = {0};
            status = settings.handler(settings.context, path.c_str(), &instance, reason, sizeof reason);
            comment = reason;
        }
        return respond(request, presentation, status, comment);
    }

    OFCondition respond(T_DIMSE_C_StoreRQ &request, T_ASC_PresentationContextID presentation, Uint16 status,
                        const std::string &comment) {
        DcmDataset detail;
        DcmDataset *statusDetail = nullptr;
        if (status != STATUS_Success && !comment.empty()) {
            // Error Comment is LO in the command set: at most 64 characters.
            detail.putAndInsertString(DCM_ErrorComment, comment.substr(0, 64).c_str());
            statusDetail = &detail;
        }
        return sendSTOREResponse(presentation, request.MessageID, request.AffectedSOPClassUID,
                                 request.AffectedSOPInstanceUID, status, statusDetail);
    }
};

class StoragePool : public DcmBaseSCPPool {
public:
    explicit StoragePool(Settings settings) : settings(std::move(settings)) {}
    Settings settings;
    std::atomic<bool> listening{false};
    std::atomic<bool> stopping{false};

protected:
    DcmBaseSCPWorker *createSCPWorker() override { return new StorageWorker(*this, settings); }
};

}  // namespace

struct rs_scp {
    StoragePool pool;
    explicit rs_scp(Settings settings) : pool(std::move(settings)) {}
};

extern "C" rs_scp *rs_scp_create(const rs_scp_options *options, rs_store_handler handler, void *context,
                                 char *error, size_t error_capacity) {
    try {
        // DCMTK logs to stderr by default; the gateway reports what matters itself.
        OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
        // DCMTK 3.6.7 leaves Nagle's algorithm on unless TCP_NODELAY=1 is in the environment, and
        // a PDV's header and its data go out as two writes: each response then waits for the
        // peer's delayed ACK, about 40 ms an instance on loopback (storescp to storescu: 55
        // instances/s with it on, 1,000 with it off). Off, unless the operator said otherwise.
        setenv("TCP_NODELAY", "1", 0);
        if (!options->ae_title || !*options->ae_title || std::strlen(options->ae_title) > 16) {
            copyText(error, error_capacity, "the AE title must have 1 to 16 characters");
            return nullptr;
        }
        if (options->port == 0) {
            copyText(error, error_capacity, "the port must be in 1...65535");
            return nullptr;
        }
        Settings settings{options->ae_title, {}, options->spool_directory, handler, context};
        for (size_t i = 0; i < options->calling_ae_title_count; i++) settings.callingAETitles.emplace_back(options->calling_ae_titles[i]);
        auto *scp = new rs_scp(std::move(settings));
        DcmSCPConfig &config = scp->pool.getConfig();
        config.setAETitle(options->ae_title);
        config.setRespondWithCalledAETitle(OFFalse);
        config.setPort(options->port);
        config.setMaxReceivePDULength(65536);
        config.setHostLookupEnabled(OFFalse);
        // Waiting for connections returns every second, so that a stop is noticed.
        config.setConnectionBlockingMode(DUL_NOBLOCK);
        config.setConnectionTimeout(1);
        config.setACSETimeout(options->timeout_seconds);
        config.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
        config.setDIMSETimeout(options->timeout_seconds);
        scp->pool.setMaxThreads(static_cast<Uint16>(options->max_associations));

        OFList<OFString> verification;
        verification.push_back(UID_LittleEndianExplicitTransferSyntax);
        verification.push_back(UID_LittleEndianImplicitTransferSyntax);
        OFCondition added = config.addPresentationContext(UID_VerificationSOPClass, verification);
        OFList<OFString> syntaxes;
        for (size_t i = 0; i < options->transfer_syntax_count; i++) syntaxes.push_back(options->transfer_syntaxes[i]);
        for (size_t i = 0; i < options->sop_class_count && added.good(); i++)
            added = config.addPresentationContext(options->sop_classes[i], syntaxes);
        if (added.bad()) {
            copyText(error, error_capacity, std::string("presentation contexts: ") + added.text());
            delete scp;
            return nullptr;
        }
        return scp;
    } catch (const std::exception &exception) {
        copyText(error, error_capacity, std::string("DCMTK: ") + exception.what());
        return nullptr;
    } catch (...) {
        copyText(error, error_capacity, "DCMTK: an unknown C++ exception");
        return nullptr;
    }
}

extern "C" int rs_scp_listen(rs_scp *scp, char *error, size_t error_capacity) {
    try {
        scp->pool.listening = true;
        OFCondition result = scp->pool.stopping ? EC_Normal : scp->pool.listen();
        scp->pool.listening = false;
        if (result.bad()) {
            copyText(error, error_capacity, result.text());
            return 1;
        }
        return 0;
    } catch (const std::exception &exception) {
        scp->pool.listening = false;
        copyText(error, error_capacity, std::string("DCMTK: ") + exception.what());
        return 1;
    } catch (...) {
        scp->pool.listening = false;
        copyText(error, error_capacity, "DCMTK: an unknown C++ exception");
        return 1;
    }
}

extern "C" void rs_scp_stop(rs_scp *scp) {
    scp->pool.stopping = true;
    // listen() sets its run mode when it starts, so a stop asked just before would be lost:
    // ask again until it has returned.
    while (scp->pool.listening) {
        scp->pool.stopAfterCurrentAssociations();
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

extern "C" void rs_scp_destroy(rs_scp *scp) { delete scp; }
