/* contract.h -- the service blocks of proto/meso/v1 as the daemons see them.
 *
 * Every daemon's method table (services/<name>/handlers.c) and the
 * `service <Name>Service` block at the end of its .proto list the same
 * methods with the same request types; the reply type is the rpc's. The
 * bus server checks both when it starts (a daemon whose table disagrees
 * with the contract refuses to start, naming the method) and checks every
 * reply a handler makes with meso_reply_ok against the rpc's output type
 * (a mismatch is answered INTERNAL and logged as the bug it is), so code
 * generated from the .proto files decodes what the daemons send.
 * tests/tools/contract_methods.py checks the same agreement from the
 * sources, without starting anything. */
#ifndef MESO_CONTRACT_H
#define MESO_CONTRACT_H

#include <stddef.h>
#include <protobuf-c/protobuf-c.h>

#include "meso/bus.h"

/* The service block of a daemon ("scheduling" -> meso.v1.SchedulingService),
 * NULL when the contract has none (test and benchmark servers). */
const ProtobufCServiceDescriptor *meso_contract_service (const char *service);

/* The rpc of a full method name ("scheduling.BookCourse"; "Health" alone
 * is every daemon's built-in), NULL when the contract has none. */
const ProtobufCMethodDescriptor *meso_contract_method (const char *service, const char *method);

/* Compares a method table with a service block in both directions: every
 * entry has an rpc of the same name (after "<service>.") and input type,
 * and every rpc but the bus's own Health has an entry. Returns the number
 * of disagreements; the first is described in err (size bytes). */
int meso_contract_check (const ProtobufCServiceDescriptor *service, const char *prefix,
                         const meso_method_t *methods, char *err, size_t size);

/* meso_contract_check for the server of a daemon: logs the first
 * disagreement and returns -1, or 0 when they agree or the contract has
 * no service of that name (test servers). */
int meso_contract_verify (const char *service, const meso_method_t *methods);

/* After method m answered OK: a body of another type than its rpc's
 * output is withheld, logged and answered STATUS_INTERNAL. */
void meso_contract_check_reply (const char *service, const meso_method_t *m,
                                meso_reply_t *reply);

#endif
