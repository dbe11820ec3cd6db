/* consent_rules.c -- treatment consent, the pure part (consent_rules.h).
 *
 * The decision is the domain's rule ("a session does not start without a
 * signed consent for that treatment; new versions of the text apply to
 * new courses") as a function of four facts the store reads: the
 * clinic's current version, the newest version the patient signed,
 * whether the current one is among them, and whether the caller books a
 * new course. Any signed version lets a session of a running course
 * start; only the current one lets a new course be booked.
 *
 * The digest is OpenSSL's (EVP, SHA-256) over the exact bytes of the
 * text: what the patient read is what the hash names, with no
 * normalisation of line ends or spaces. */
#include "consent_rules.h"

#include <openssl/evp.h>
#include <string.h>

bool
consent_treatment_valid (const char *code)
{
    if (!code || !*code || strlen (code) > CONSENT_TREATMENT_MAX)
        return false;
    if (!(code[0] >= 'a' && code[0] <= 'z'))
        return false;
    for (const char *p = code; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return false;
    return true;
}

bool
consent_sha256_valid (const char *s)
{
    if (!s || strlen (s) != CONSENT_SHA256_HEX)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

int
consent_sha256_hex (const void *data, size_t len, char out[CONSENT_SHA256_HEX + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    out[0] = '\0';
    if (EVP_Digest (data, len, md, &n, EVP_sha256 (), NULL) != 1 || n != 32)
        return -1;
    static const char hex[] = "0123456789abcdef";
    for (unsigned int i = 0; i < n; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 0x0F];
    }
    out[2 * n] = '\0';
    return 0;
}

bool
consent_decide (const consent_state_t *s, rules_reasons_t *out)
{
    if (s->current_version <= 0) {
        rules_reason_add (out, true, "consent_text_missing", "treatment",
                          "Clinic %s has no %s consent text: publish one "
                          "(screening.SetConsentText) and have the patient sign it.",
                          s->clinic_id, s->treatment);
        return false;
    }
    if (s->newest_signed <= 0) {
        rules_reason_add (out, true, "consent_missing", "treatment",
                          "The patient has not signed the %s consent of clinic %s "
                          "(current version %d): sign it first (screening.SignConsent).",
                          s->treatment, s->clinic_id, s->current_version);
        return false;
    }
    if (s->require_current && !s->current_signed) {
        rules_reason_add (out, true, "consent_outdated", "treatment",
                          "The patient signed version %d of the %s consent of clinic %s; "
                          "a new course needs the current version %d signed.",
                          s->newest_signed, s->treatment, s->clinic_id, s->current_version);
        return false;
    }
    return true;
}
