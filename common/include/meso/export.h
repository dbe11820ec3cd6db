/* export.h -- what the four <service>.ExportPatient methods share: a
 * patient's whole record at one service, for the patient's copy of their
 * data (GDPR article 15; `mesoctl patient export` asks the four).
 *
 * An export is whole or refused, never silently partial:
 * - scope: the caller must be allowed in every clinic where the service
 *   holds a record of the patient (meso_export_need_clinic for each), so a
 *   clinic manager of one clinic cannot export what another clinic holds,
 *   nor get a copy that quietly leaves it out;
 * - size: the reply is one bus frame; a record that would not fit is
 *   refused with RESOURCE_EXHAUSTED naming its size rather than cut
 *   (a patient has a few hundred records, a few hundred KiB at most, far
 *   below MESO_PAGE_REPLY_LIMIT). */
#ifndef MESO_EXPORT_H
#define MESO_EXPORT_H

#include <stdbool.h>

#include "meso/bus.h"

/* Longest patient id an export takes, in bytes. */
#define MESO_EXPORT_ID_MAX 64

/* INVALID_ARGUMENT on patient_id unless id is 1..MESO_EXPORT_ID_MAX bytes.
 * Returns true when valid. */
bool meso_export_valid_id (meso_reply_t *reply, const char *id);

/* PERMISSION_DENIED ("out_of_scope" on patient_id) unless the caller may
 * act in clinic. 0 allowed, -1 refused (reply set). */
int meso_export_need_clinic (meso_reply_t *reply, const char *clinic);

/* Answers msg, the export of patient at service, or RESOURCE_EXHAUSTED
 * when it is over the frame's room (MESO_PAGE_REPLY_LIMIT). A patient
 * with no record at the service (no clinic checked) is answered too: the
 * call's scope is marked as checked (nothing of any clinic is shown). */
void meso_export_reply (meso_reply_t *reply, const ProtobufCMessage *msg, const char *service,
                        const char *patient);

#endif
