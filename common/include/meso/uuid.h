/* uuid.h -- random (version 4) UUIDs as text, for ids made in C. */
#ifndef MESO_UUID_H
#define MESO_UUID_H

#define MESO_UUID_LEN 36

/* Writes a new random UUID ("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx") and its
 * NUL into out (at least MESO_UUID_LEN + 1 bytes). Returns 0, or -1 when
 * the system has no randomness to give. */
int meso_uuid_v4 (char *out);

#endif
