/* export.c -- "screening.ExportPatient": everything screening holds about
 * one patient (GDPR article 15): the registration, every screening with
 * its answers and verdict, every reported change and every consent
 * signature, oldest first.
 *
 * The reads run in one REPEATABLE READ transaction, so the parts agree
 * with each other (a screening recorded meanwhile is in all or none). The
 * scope is every clinic the record touches -- the home clinic, each
 * screening's and each signature's clinic -- (meso/export.h: an export is
 * whole or refused). It reuses GetScreening's and GetConsents' readers,
 * and changes nothing. */
#include "screening.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "meso/export.h"

/* The largest history an export reads: far above what one person
 * accumulates (a screening every few months); more is refused by size. */
#define EXPORT_SCREENINGS_MAX 10000

typedef struct {
    const char *id;
    meso_reply_t *reply;
    store_patient_t p;
    PGresult *scr, *ch, *sig;
    Meso__V1__Screening **screenings;
    size_t nscreenings;
    screening_changes_t changes;
    Meso__V1__ConsentSignature *sa;
    Meso__V1__ConsentSignature **sp;
    bool refused;                       /* reply set (not a database error) */
} s_export_t;

static void
s_clear (s_export_t *x)
{
    for (size_t i = 0; i < x->nscreenings; i++)
        meso__v1__screening__free_unpacked (x->screenings[i], NULL);
    free (x->screenings);
    screening_changes_free (&x->changes);
    free (x->sa);
    free (x->sp);
    if (x->scr)
        PQclear (x->scr);
    if (x->ch)
        PQclear (x->ch);
    if (x->sig)
        PQclear (x->sig);
    x->screenings = NULL;
    x->nscreenings = 0;
    x->sa = NULL;
    x->sp = NULL;
    x->scr = x->ch = x->sig = NULL;
}

static int
s_read (meso_db_t *db, void *arg)
{
    s_export_t *x = arg;
    s_clear (x);
    if (screening_patient (x->reply, db, x->id, false, &x->p) != 0) {
        x->refused = true;
        return -1;
    }
    x->scr = store_screenings (db, x->p.id, EXPORT_SCREENINGS_MAX, NULL, NULL);
    x->ch = x->scr ? store_changes_since (db, x->p.id, INT64_MIN) : NULL;
    x->sig = x->ch ? store_consents (db, x->p.id, "", "", NULL, NULL, EXPORT_SCREENINGS_MAX) : NULL;
    return x->sig ? 0 : -1;
}

void
screening_export_patient (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    screening_t *self = arg;
    Meso__V1__ExportPatientRequest *in = body;
    rules_reasons_t bad = { .n = 0 };
    screening_need_patient_id (&bad, "patient_id", in->patient_id);
    if (screening_invalid (reply, &bad, req->method))
        return;
    s_export_t x = { .id = in->patient_id, .reply = reply };
    if (meso_db_txn (self->db, MESO_DB_REPEATABLE_READ, s_read, &x) != 0) {
        if (!x.refused)
            meso_reply_db_error (reply, self->db, "cannot read the patient's record");
        goto done;
    }
    /* Every clinic of the record: the home clinic, then each screening's
     * and each signature's. */
    if (meso_export_need_clinic (reply, x.p.home_clinic_id) != 0)
        goto done;
    int nscr = PQntuples (x.scr), nsig = PQntuples (x.sig);
    x.screenings = calloc ((size_t) nscr + 1, sizeof *x.screenings);
    x.sa = calloc ((size_t) nsig + 1, sizeof *x.sa);
    x.sp = calloc ((size_t) nsig + 1, sizeof *x.sp);
    if (!x.screenings || !x.sa || !x.sp) {
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    if (screening_changes_proto (x.ch, &x.p, &x.changes) != 0) {
        meso_reply_error (reply, MESO_DATA_LOSS, "the reported changes of patient %s do not open",
                          x.p.id);
        goto done;
    }
    /* Both readers give newest first: the export is oldest first. */
    for (int r = nscr - 1; r >= 0; r--) {
        Meso__V1__Screening *sc = screening_stored (x.scr, r, false, &x.p, reply);
        if (!sc)
            goto done;
        x.screenings[x.nscreenings++] = sc;
        if (meso_export_need_clinic (reply, sc->clinic_id) != 0)
            goto done;
    }
    for (int r = 0; r < nsig; r++) {
        screening_sig_proto (x.sig, nsig - 1 - r, &x.sa[r]);
        x.sp[r] = &x.sa[r];
        if (meso_export_need_clinic (reply, x.sa[r].clinic_id) != 0)
            goto done;
    }
    Meso__V1__Patient patient;
    screening_patient_proto (&x.p, &patient);
    Meso__V1__ScreeningExportPatientReply out = MESO__V1__SCREENING_EXPORT_PATIENT_REPLY__INIT;
    out.patient = &patient;
    out.n_screenings = x.nscreenings;
    out.screenings = x.screenings;
    out.n_changes = x.changes.n;
    out.changes = x.changes.ptrs;
    out.n_consents = (size_t) nsig;
    out.consents = x.sp;
    meso_export_reply (reply, &out.base, "screening", x.p.id);
done:
    s_clear (&x);
}
