// A Storage SCU on DCMTK's DcmSCU: what sends RadStream's SRs back to the hospital's PACS.
#include "rs_dicom_network.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/scu.h>
#include <dcmtk/oflog/oflog.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

namespace {

int fail(char *error, size_t capacity, const std::string &what, const OFCondition &condition) {
    std::snprintf(error, capacity, "C-STORE to the destination: %s: %s", what.c_str(), condition.text());
    return 1;
}

}  // namespace

extern "C" int rs_scu_store(const rs_scu_options *options, const char *sop_class_uid, const char *const *paths, size_t count,
                            uint16_t *statuses, char *error, size_t error_capacity) {
    try {
        OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
        setenv("TCP_NODELAY", "1", 0);  // as for the SCP (storage_scp.cpp): no delayed-ACK wait per response
        for (size_t i = 0; i < count; i++) statuses[i] = 0xFFFF;
        DcmSCU scu;
        scu.setAETitle(options->calling_ae_title);
        scu.setPeerAETitle(options->called_ae_title);
        scu.setPeerHostName(options->host);
        scu.setPeerPort(options->port);
        scu.setACSETimeout(options->timeout_seconds);
        scu.setDIMSETimeout(options->timeout_seconds);
        scu.setConnectionTimeout(static_cast<Sint32>(options->timeout_seconds));
        scu.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
        OFList<OFString> syntaxes;
        syntaxes.push_back(UID_LittleEndianExplicitTransferSyntax);
        syntaxes.push_back(UID_LittleEndianImplicitTransferSyntax);
        OFCondition status = scu.addPresentationContext(sop_class_uid, syntaxes);
        if (status.bad()) return fail(error, error_capacity, "presentation context", status);
        if ((status = scu.initNetwork()).bad()) return fail(error, error_capacity, "network", status);
        if ((status = scu.negotiateAssociation()).bad()) return fail(error, error_capacity, "association", status);
        const T_ASC_PresentationContextID context = scu.findPresentationContextID(sop_class_uid, "");
        if (context == 0) {
            scu.releaseAssociation();
            std::snprintf(error, error_capacity, "C-STORE to the destination: it does not accept SOP class %s", sop_class_uid);
            return 1;
        }
        for (size_t i = 0; i < count; i++) {
            Uint16 response = 0;
            status = scu.sendSTORERequest(context, OFFilename(paths[i]), nullptr, response);
            if (status.bad()) return fail(error, error_capacity, "sending", status);
            statuses[i] = response;
        }
        scu.releaseAssociation();
        return 0;
    } catch (const std::exception &exception) {
        std::snprintf(error, error_capacity, "C-STORE to the destination: DCMTK: %s", exception.what());
    } catch (...) {
        std::snprintf(error, error_capacity, "C-STORE to the destination: DCMTK: an unknown C++ exception");
    }
    return 1;
}
