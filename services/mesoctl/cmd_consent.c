/* cmd_consent.c -- "mesoctl consent ...": treatment consent at the
 * screening daemon.
 *
 *     mesoctl consent text-set  --clinic C [--treatment T] (--text TEXT | --file F)
 *     mesoctl consent text-show --clinic C [--treatment T] [--text-version N]
 *     mesoctl consent sign      --patient ID --clinic C --witness W [--text-version N]
 *     mesoctl consent list      --patient ID [--clinic C] [--treatment T]
 *
 * The treatment defaults to body_mesotherapy, the one scheduling books. A
 * text file is sent byte for byte (its SHA-256 is the service's, printed
 * back). (--text-version, because --version is mesoctl's own.) sign
 * without --text-version signs the clinic's current version: it
 * reads it first and sends that version with its hash, so a version
 * published in between is refused rather than signed unseen.
 *
 * Its own command and file, apart from cmd_screening.c, because consent is
 * its own aggregate of the screening daemon and the front desk's task;
 * the files share only the daemon's endpoint. Readable lines, or with
 * --json the reply with every field of proto/meso/v1/screening.proto; a
 * refusal prints every reason, exit 1. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesoctl.h"
#include "screening.pb-c.h"

#define S_TREATMENT "body_mesotherapy"
#define S_FILE_MAX (256 * 1024)

static const mesoctl_service_t s_service = {
    .name = "consent",
    .daemon = "screening",
    .summary = "Treatment consent: a clinic's versioned texts and the patients' signatures.",
    .endpoint = { "endpoint", "MESO_SCREENING_ENDPOINT", "tcp://127.0.0.1:7101", "screening daemon", NULL },
    .timeout_ms = 10000,
    .quirks = MESOCTL_Q_JSON_REFUSAL,
};

static const char *
s_treatment (meso_opt_t *opts)
{
    const char *t = mesoctl_opt (opts, "treatment");
    return *t ? t : S_TREATMENT;
}

/* A version option: 0 when empty; -1 when not a number. */
static long
s_version (meso_opt_t *opts)
{
    const char *v = mesoctl_opt (opts, "text-version");
    if (!*v)
        return 0;
    char *end;
    errno = 0;
    long n = strtol (v, &end, 10);
    return (*end || errno || n < 1 || n > 2147483647L) ? -1 : n;
}

static void
s_print_text (const Meso__V1__ConsentText *t)
{
    printf ("consent text %s/%s version %u%s, sha256 %s\n", t->clinic_id, t->treatment, t->version,
            t->current ? " (current)" : "", t->sha256);
}

/* ------------------------------------------------------------ text-set */

/* Reads path whole into a NUL-terminated buffer (caller frees), NULL
 * with a message on stderr. */
static char *
s_read_file (const char *path)
{
    FILE *f = fopen (path, "rb");
    if (!f) {
        fprintf (stderr, "mesoctl consent: cannot open %s: %s\n", path, strerror (errno));
        return NULL;
    }
    char *buf = malloc (S_FILE_MAX + 1);
    size_t n = buf ? fread (buf, 1, S_FILE_MAX + 1, f) : 0;
    bool bad = !buf || ferror (f) || n > S_FILE_MAX;
    fclose (f);
    if (bad) {
        fprintf (stderr, "mesoctl consent: cannot read %s (at most %d bytes)\n", path, S_FILE_MAX);
        free (buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

static int
s_text_set (meso_opt_t *opts)
{
    const char *file = mesoctl_opt (opts, "file"), *text = mesoctl_opt (opts, "text");
    if (!*mesoctl_opt (opts, "clinic") || (!*file == !*text)) {
        fprintf (stderr, "mesoctl consent text-set: --clinic and one of --text or --file are required\n");
        return MESOCTL_USAGE;
    }
    char *buf = NULL;
    if (*file && !(buf = s_read_file (file)))
        return MESOCTL_FAILED;
    Meso__V1__SetConsentTextRequest rq = MESO__V1__SET_CONSENT_TEXT_REQUEST__INIT;
    rq.clinic_id = (char *) mesoctl_opt (opts, "clinic");
    rq.treatment = (char *) s_treatment (opts);
    rq.text = buf ? buf : (char *) text;
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (&s_service, opts, "screening.SetConsentText", &rq.base, true,
                           &meso__v1__set_consent_text_reply__descriptor, &out);
    free (buf);
    if (rc != MESOCTL_OK)
        return rc;
    Meso__V1__SetConsentTextReply *rep = (Meso__V1__SetConsentTextReply *) out;
    if (!meso_config_bool (opts, "json")) {
        s_print_text (rep->consent);
        if (!rep->created)
            printf ("  unchanged: the text is the current version already\n");
    }
    protobuf_c_message_free_unpacked (out, NULL);
    return MESOCTL_OK;
}

static const meso_opt_t s_text_set_opts[] = {
    { "clinic", NULL, NULL, "clinic id (required)", NULL },
    { "treatment", NULL, "", "treatment code (default " S_TREATMENT ")", NULL },
    { "text", NULL, "", "the consent text", NULL },
    { "file", NULL, "", "a file holding the consent text (sent byte for byte)", NULL },
    MESOCTL_OPT_END
};

/* ----------------------------------------------------------- text-show */

/* GetConsentText of (clinic, treatment, version); out is the reply. */
static int
s_get_text (meso_opt_t *opts, uint32_t version, ProtobufCMessage **out)
{
    Meso__V1__GetConsentTextRequest rq = MESO__V1__GET_CONSENT_TEXT_REQUEST__INIT;
    rq.clinic_id = (char *) mesoctl_opt (opts, "clinic");
    rq.treatment = (char *) s_treatment (opts);
    rq.version = version;
    return mesoctl_call (&s_service, opts, "screening.GetConsentText", &rq.base, false,
                         &meso__v1__get_consent_text_reply__descriptor, out);
}

static int
s_text_show (meso_opt_t *opts)
{
    long v = s_version (opts);
    if (!*mesoctl_opt (opts, "clinic") || v < 0) {
        fprintf (stderr, "mesoctl consent text-show: --clinic is required; --text-version is a number >= 1\n");
        return MESOCTL_USAGE;
    }
    ProtobufCMessage *out = NULL;
    int rc = s_get_text (opts, (uint32_t) v, &out);
    if (rc != MESOCTL_OK)
        return rc;
    Meso__V1__GetConsentTextReply *rep = (Meso__V1__GetConsentTextReply *) out;
    if (!meso_config_bool (opts, "json")) {
        s_print_text (rep->consent);
        printf ("%s%s", rep->consent->text,
                *rep->consent->text && rep->consent->text[strlen (rep->consent->text) - 1] == '\n' ? "" : "\n");
    }
    protobuf_c_message_free_unpacked (out, NULL);
    return MESOCTL_OK;
}

static const meso_opt_t s_text_show_opts[] = {
    { "clinic", NULL, NULL, "clinic id (required)", NULL },
    { "treatment", NULL, "", "treatment code (default " S_TREATMENT ")", NULL },
    { "text-version", NULL, "", "version to show (default: the current one)", NULL },
    MESOCTL_OPT_END
};

/* ---------------------------------------------------------------- sign */

static void
s_print_signature (const Meso__V1__ConsentSignature *s)
{
    printf ("signature %s: patient %s signed %s/%s version %u%s, witness %s, sha256 %s\n",
            s->signature_id, s->patient_id, s->clinic_id, s->treatment, s->version,
            s->current ? " (current)" : "", s->witness, s->text_sha256);
}

static int
s_sign (meso_opt_t *opts)
{
    long v = s_version (opts);
    if (!*mesoctl_opt (opts, "patient") || !*mesoctl_opt (opts, "clinic")
        || !*mesoctl_opt (opts, "witness") || v < 0) {
        fprintf (stderr, "mesoctl consent sign: --patient, --clinic and --witness are required; "
                         "--text-version is a number >= 1\n");
        return MESOCTL_USAGE;
    }
    char sha[80] = "";
    if (v == 0) {
        /* The current version, and its hash so that nothing else is signed. */
        ProtobufCMessage *cur = NULL;
        int rc = s_get_text (opts, 0, &cur);
        if (rc != MESOCTL_OK)
            return rc;
        Meso__V1__GetConsentTextReply *t = (Meso__V1__GetConsentTextReply *) cur;
        v = t->consent->version;
        snprintf (sha, sizeof sha, "%s", t->consent->sha256);
        protobuf_c_message_free_unpacked (cur, NULL);
    }
    Meso__V1__SignConsentRequest rq = MESO__V1__SIGN_CONSENT_REQUEST__INIT;
    rq.patient_id = (char *) mesoctl_opt (opts, "patient");
    rq.clinic_id = (char *) mesoctl_opt (opts, "clinic");
    rq.treatment = (char *) s_treatment (opts);
    rq.version = (uint32_t) v;
    rq.witness = (char *) mesoctl_opt (opts, "witness");
    rq.text_sha256 = *mesoctl_opt (opts, "sha256") ? (char *) mesoctl_opt (opts, "sha256") : sha;
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (&s_service, opts, "screening.SignConsent", &rq.base, true,
                           &meso__v1__sign_consent_reply__descriptor, &out);
    if (rc != MESOCTL_OK)
        return rc;
    if (!meso_config_bool (opts, "json"))
        s_print_signature (((Meso__V1__SignConsentReply *) out)->signature);
    protobuf_c_message_free_unpacked (out, NULL);
    return MESOCTL_OK;
}

static const meso_opt_t s_sign_opts[] = {
    { "patient", NULL, NULL, "patient id (required)", NULL },
    { "clinic", NULL, NULL, "clinic whose text is signed (required)", NULL },
    { "witness", NULL, NULL, "who witnessed the signature (required)", NULL },
    { "treatment", NULL, "", "treatment code (default " S_TREATMENT ")", NULL },
    { "text-version", NULL, "", "version read to the patient (default: the current one)", NULL },
    { "sha256", NULL, "", "SHA-256 of the text shown (default: the version's own)", NULL },
    MESOCTL_OPT_END
};

/* ---------------------------------------------------------------- list */

static void
s_list_page (const ProtobufCMessage *m, int page, void *arg)
{
    (void) arg;
    const Meso__V1__GetConsentsReply *rep = (const Meso__V1__GetConsentsReply *) m;
    if (page == 0 && rep->n_signatures == 0)
        printf ("no signed consent\n");
    for (size_t i = 0; i < rep->n_signatures; i++)
        s_print_signature (rep->signatures[i]);
}

static int
s_list (meso_opt_t *opts)
{
    if (!*mesoctl_opt (opts, "patient")) {
        fprintf (stderr, "mesoctl consent list: --patient is required\n");
        return MESOCTL_USAGE;
    }
    Meso__V1__GetConsentsRequest rq = MESO__V1__GET_CONSENTS_REQUEST__INIT;
    rq.patient_id = (char *) mesoctl_opt (opts, "patient");
    rq.clinic_id = (char *) mesoctl_opt (opts, "clinic");
    rq.treatment = (char *) mesoctl_opt (opts, "treatment");
    return mesoctl_call_pages (&s_service, opts, "screening.GetConsents", &rq.base, false,
                               &meso__v1__get_consents_reply__descriptor, s_list_page, NULL);
}

static const meso_opt_t s_list_opts[] = {
    { "patient", NULL, NULL, "patient id (required)", NULL },
    { "clinic", NULL, "", "only this clinic's", NULL },
    { "treatment", NULL, "", "only this treatment's", NULL },
    MESOCTL_PAGE_OPTS,
    MESOCTL_OPT_END
};

/* ------------------------------------------------------------- entry */

static const mesoctl_sub_t s_subs[] = {
    { "text-set", "publish a new version of a clinic's consent text",
      "--clinic C [--treatment T] (--text TEXT | --file F) [options]",
      "Publishes the text as the clinic's new current version for the treatment and prints\n"
      "its version and SHA-256. The same text as the current version publishes nothing.\n"
      "New versions apply to new courses: booking needs the current version signed.",
      "--clinic par --file consent-body-v2.txt\n"
      "--clinic par --treatment body_mesotherapy --text 'I consent to ...'",
      s_text_set_opts, MESOCTL_JSON | MESOCTL_KEY, NULL, 0, s_text_set, "screening.SetConsentText" },
    { "text-show", "print a clinic's consent text (the current or a version)",
      "--clinic C [--treatment T] [--text-version N] [options]",
      "Prints a version of the clinic's consent text with its SHA-256 (default: current).",
      "--clinic par --text-version 1",
      s_text_show_opts, MESOCTL_JSON, NULL, 0, s_text_show, "screening.GetConsentText" },
    { "sign", "record a patient's signature of the current consent text",
      "--patient ID --clinic C --witness W [--treatment T] [--text-version N] [options]",
      "Records that the patient signed the clinic's consent text in front of the witness.\n"
      "Only the current version can be signed; without --text-version it is looked up.",
      "--patient 6f1c...e2 --clinic par --witness 'Nurse Dupont'",
      s_sign_opts, MESOCTL_JSON | MESOCTL_KEY, NULL, 0, s_sign, "screening.SignConsent,screening.GetConsentText" },
    { "list", "a patient's signed consents, newest first",
      "--patient ID [--clinic C] [--treatment T] [--page-size N] [--page-token T | --all] [options]",
      "Lists the patient's signatures, newest first, marking those of a current version.",
      "--patient 6f1c...e2 --clinic par\n--patient 6f1c...e2 --clinic par --page-size 100 --all",
      s_list_opts, MESOCTL_JSON, NULL, 0, s_list, "screening.GetConsents" },
    { NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, NULL }
};

int
mesoctl_consent (int argc, char **argv)
{
    return mesoctl_run (&s_service, s_subs, false, argc, argv);
}
