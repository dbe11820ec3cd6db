/* export.c -- the shared checks of the <service>.ExportPatient methods
 * (see export.h). */
#include "meso/export.h"

#include <string.h>

#include "meso/access.h"
#include "meso/page.h"

bool
meso_export_valid_id (meso_reply_t *reply, const char *id)
{
    size_t n = id ? strlen (id) : 0;
    if (n >= 1 && n <= MESO_EXPORT_ID_MAX)
        return true;
    if (n)
        meso_reply_reason (reply, "too_long", "patient_id", "patient_id is at most %d bytes",
                           MESO_EXPORT_ID_MAX);
    else
        meso_reply_reason (reply, "missing_field", "patient_id", "patient_id is required");
    meso_reply_error (reply, MESO_INVALID_ARGUMENT, "invalid ExportPatient request: patient_id");
    return false;
}

int
meso_export_need_clinic (meso_reply_t *reply, const char *clinic)
{
    return meso_call_need_clinic (reply, clinic, "patient_id") == 0 ? 0 : -1;
}

void
meso_export_reply (meso_reply_t *reply, const ProtobufCMessage *msg, const char *service,
                   const char *patient)
{
    size_t size = protobuf_c_message_get_packed_size (msg);
    if (size > MESO_PAGE_REPLY_LIMIT) {
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED,
                          "the %s export of patient %.64s is %zu bytes, over the %zu-byte reply limit",
                          service, patient, size, MESO_PAGE_REPLY_LIMIT);
        meso_reply_detail (reply, "an export is one reply and is never cut; "
                           "the service's records of the patient must be read with its list methods");
        return;
    }
    /* A patient without records here: nothing of any clinic is shown. */
    meso_call_scope_filtered ();
    meso_reply_ok (reply, msg);
}
