/* enumtext.h -- the contract's enums as the lowercase text the database
 * keeps and mesoctl shows ("mg" <-> UNIT_MG, "bank_transfer" <->
 * PAYMENT_METHOD_BANK_TRANSFER).
 *
 * Every enum of meso.v1 names its zero value <PREFIX>UNSPECIFIED and its
 * other values <PREFIX><TEXT IN UPPER CASE> (proto/meso/v1/common.proto),
 * so one mapping driven by the generated descriptor serves every enum:
 * no table to keep in step with the .proto files. The database keeps its
 * text columns and CHECK constraints; the services convert at the edge
 * (rows read -> reply, request -> SQL parameter). */
#ifndef MESO_ENUMTEXT_H
#define MESO_ENUMTEXT_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>

/* Room for the longest text of any value (names are short). */
#define MESO_ENUM_TEXT_MAX 64

/* The value whose text is `text` (exact, lowercase); 0 (UNSPECIFIED) for
 * NULL, "", an unknown text, or an enum without an _UNSPECIFIED zero.
 * Pure. */
int meso_enum_from_text (const ProtobufCEnumDescriptor *d, const char *text);

/* Writes the text of value v into buf (cap bytes, NUL-terminated) and
 * returns buf; returns NULL (buf "") for 0, a value not in d, or a text
 * that does not fit. Pure. */
const char *meso_enum_text (const ProtobufCEnumDescriptor *d, int v, char *buf, size_t cap);

/* The text of v for printing: as meso_enum_text, "unspecified" for 0 and
 * for a value not in d. The result lives in one of 8 per-thread buffers
 * used in turn: valid until the thread's 8th call after it (enough for
 * one printf). */
const char *meso_enum_str (const ProtobufCEnumDescriptor *d, int v);

/* As meso_enum_from_text, for a value read from the database or a peer:
 * an unknown non-empty text is logged (warning naming `what` and the
 * text) before 0 is returned, so a reply shows UNSPECIFIED rather than
 * a guess. */
int meso_enum_from_db (const ProtobufCEnumDescriptor *d, const char *text, const char *what);

/* A request's enum field: true when v is a known value other than 0.
 * Callers refuse the request with INVALID_ARGUMENT naming the field
 * otherwise. Pure. */
bool meso_enum_valid (const ProtobufCEnumDescriptor *d, int v);

#endif
