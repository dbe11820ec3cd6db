/* status.c -- names of the canonical status codes (see status.h). */
#include "meso/status.h"

static const char *const s_names[] = {
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
    "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"
};

const char *
meso_status_name (int status)
{
    if (status < 0 || status >= (int) (sizeof s_names / sizeof s_names[0]))
        return "UNKNOWN_STATUS";
    return s_names[status];
}
