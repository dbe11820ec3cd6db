/* fhir_ids.c -- the small pieces every FHIR resource is made of (fhir.h):
 * ids, references, instants, dates, money, decimals, codings.
 *
 * Ids are stable: the same meso record gives the same id in every export,
 * so a receiver can update what it stored. A meso id that is already a
 * valid FHIR id ([A-Za-z0-9.-]{1,64}: every UUID, clinic and practitioner
 * id of the usual shape) is kept as it is, so a person can find the record
 * in meso from the FHIR id. Anything else (an underscore, more than 64
 * bytes), and resources made of several meso records (an allergy is a
 * patient and an ingredient), get "h-" and 40 hex digits of a SHA-256 of
 * the resource type and the parts, each part preceded by its length so
 * that no two lists of parts hash alike. SHA-256 is libsodium's.
 *
 * Money and quantities are decimals in FHIR, integers in meso (cents,
 * thousandths). They go through a double only to be printed with 15
 * significant digits (cmd_fhir.c dumps with JSON_REAL_PRECISION(15)),
 * which gives back the exact decimal for every amount below 10^12 units:
 * far above a clinic's invoice or a session's dose. Whole values are
 * JSON integers. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "fhir.h"
#include "meso/mtime.h"

bool
fhir_id_valid (const char *id)
{
    size_t n = id ? strlen (id) : 0;
    if (n < 1 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
              || c == '.'))
            return false;
    }
    return true;
}

char *
fhir_id_of (const char *type, const char *const *parts, size_t nparts, char *out)
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init (&st);
    crypto_hash_sha256_update (&st, (const unsigned char *) type, strlen (type));
    for (size_t i = 0; i < nparts; i++) {
        const char *p = parts[i] ? parts[i] : "";
        char len[24];
        int n = snprintf (len, sizeof len, "|%zu:", strlen (p));
        crypto_hash_sha256_update (&st, (const unsigned char *) len, (unsigned long long) n);
        crypto_hash_sha256_update (&st, (const unsigned char *) p, strlen (p));
    }
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final (&st, h);
    char hex[2 * crypto_hash_sha256_BYTES + 1];
    sodium_bin2hex (hex, sizeof hex, h, sizeof h);
    snprintf (out, FHIR_ID_SIZE, "h-%.40s", hex);
    return out;
}

char *
fhir_id (const char *type, const char *meso_id, char *out)
{
    if (fhir_id_valid (meso_id)) {
        snprintf (out, FHIR_ID_SIZE, "%s", meso_id);
        return out;
    }
    const char *parts[] = { meso_id };
    return fhir_id_of (type, parts, 1, out);
}

json_t *
fhir_ref_id (const char *type, const char *id)
{
    char ref[160];
    snprintf (ref, sizeof ref, "%s/%s", type, id);
    return json_pack ("{s:s}", "reference", ref);
}

json_t *
fhir_ref (const char *type, const char *meso_id)
{
    char id[FHIR_ID_SIZE];
    return fhir_ref_id (type, fhir_id (type, meso_id, id));
}

int
fhir_instant (int64_t us, char *buf, size_t size)
{
    int64_t secs = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
    int64_t frac = us - secs * 1000000;
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t rem = secs - days * 86400;
    int y, m, d;
    meso_date_to_ymd ((int32_t) days, &y, &m, &d);
    int hh = (int) (rem / 3600), mm = (int) (rem / 60 % 60), ss = (int) (rem % 60);
    if (frac)
        return snprintf (buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06" PRId64 "Z", y, m, d, hh, mm, ss,
                         frac);
    return snprintf (buf, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, hh, mm, ss);
}

const char *
fhir_date (const char *text)
{
    int32_t days;
    if (!text || strlen (text) != 10 || meso_date_parse (text, &days) != 0)
        return NULL;
    return text;
}

json_t *
fhir_decimal_milli (int64_t milli)
{
    if (milli % 1000 == 0)
        return json_integer (milli / 1000);
    return json_real ((double) milli / 1000.0);
}

json_t *
fhir_money (int64_t cents, const char *currency)
{
    json_t *m = json_object ();
    json_object_set_new (m, "value", cents % 100 == 0 ? json_integer (cents / 100)
                                                      : json_real ((double) cents / 100.0));
    fhir_set_str (m, "currency", currency);
    return m;
}

void
fhir_set_str (json_t *obj, const char *key, const char *s)
{
    if (s && *s)
        json_object_set_new (obj, key, json_string (s));
}

json_t *
fhir_concept (const char *system, const char *code, const char *display, const char *text)
{
    json_t *coding = json_object ();
    fhir_set_str (coding, "system", system);
    fhir_set_str (coding, "code", code);
    fhir_set_str (coding, "display", display);
    json_t *cc = json_object ();
    json_object_set_new (cc, "coding", json_pack ("[o]", coding));
    fhir_set_str (cc, "text", text);
    return cc;
}

void
fhir_extension (json_t *obj, const char *name, const char *value_key, json_t *value)
{
    json_t *ext = json_object_get (obj, "extension");
    if (!ext) {
        ext = json_array ();
        json_object_set_new (obj, "extension", ext);
    }
    char url[200];
    snprintf (url, sizeof url, "%s%s", FHIR_EXT, name);
    json_t *e = json_object ();
    json_object_set_new (e, "url", json_string (url));
    json_object_set_new (e, value_key, value);
    json_array_append_new (ext, e);
}
