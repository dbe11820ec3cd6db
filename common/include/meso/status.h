/* status.h -- canonical status codes of the meso wire protocol.
 *
 * The numbers equal meso.v1.Status in proto/meso/v1/rpc.proto, so a value
 * can be stored in the envelope without translation. */
#ifndef MESO_STATUS_H
#define MESO_STATUS_H

typedef enum {
    MESO_OK = 0,
    MESO_CANCELLED = 1,
    MESO_UNKNOWN = 2,
    MESO_INVALID_ARGUMENT = 3,
    MESO_DEADLINE_EXCEEDED = 4,
    MESO_NOT_FOUND = 5,
    MESO_ALREADY_EXISTS = 6,
    MESO_PERMISSION_DENIED = 7,
    MESO_RESOURCE_EXHAUSTED = 8,
    MESO_FAILED_PRECONDITION = 9,
    MESO_ABORTED = 10,
    MESO_OUT_OF_RANGE = 11,
    MESO_UNIMPLEMENTED = 12,
    MESO_INTERNAL = 13,
    MESO_UNAVAILABLE = 14,
    MESO_DATA_LOSS = 15,
    MESO_UNAUTHENTICATED = 16
} meso_status_t;

/* "OK", "INVALID_ARGUMENT", ...; "UNKNOWN_STATUS" for out-of-range values. */
const char *meso_status_name (int status);

#endif
