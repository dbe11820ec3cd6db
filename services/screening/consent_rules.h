/* consent_rules.h -- treatment consent, the pure part: the shape of a
 * treatment code and of a consent text, the SHA-256 of a text, and the
 * decision whether a patient's signatures let a session go ahead. No I/O:
 * consents.c loads the rows and tests/unit/test_consent_rules.c calls
 * these directly. */
#ifndef SCREENING_CONSENT_RULES_H
#define SCREENING_CONSENT_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "rules.h"

#define CONSENT_TREATMENT_MAX 64        /* bytes of a treatment code */
#define CONSENT_TEXT_MAX 20000          /* characters of a consent text */
#define CONSENT_WITNESS_MAX 200         /* characters of a witness's name */
#define CONSENT_SHA256_HEX 64           /* hex digits of a SHA-256 */

/* True when code is a treatment code: [a-z][a-z0-9_]*, 1 to
 * CONSENT_TREATMENT_MAX bytes (e.g. "body_mesotherapy"). */
bool consent_treatment_valid (const char *code);

/* True when s is 64 lowercase hex digits. */
bool consent_sha256_valid (const char *s);

/* Writes the SHA-256 of the len bytes at data as 64 lowercase hex digits
 * and a NUL into out. 0, or -1 when the digest could not be computed. */
int consent_sha256_hex (const void *data, size_t len, char out[CONSENT_SHA256_HEX + 1]);

/* What is known of one patient, clinic and treatment when a session is
 * checked. */
typedef struct {
    const char *clinic_id;
    const char *treatment;
    int current_version;                /* the clinic's current text; 0: none */
    int newest_signed;                  /* newest version signed; 0: none */
    bool current_signed;                /* current_version is among those signed */
    bool require_current;               /* a new course: only the current version will do */
} consent_state_t;

/* Whether the signatures in s let the session go ahead. When not, adds
 * one refusal on field "treatment" that names the clinic, the treatment
 * and what is missing: "consent_text_missing" (the clinic has no text
 * for the treatment), "consent_missing" (nothing signed) or
 * "consent_outdated" (require_current and the current version not
 * signed), and returns false. */
bool consent_decide (const consent_state_t *s, rules_reasons_t *out);

#endif
