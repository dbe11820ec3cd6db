/* export.c -- "inventory.ExportPatient": the stock drawn for one patient
 * (GDPR article 15; meso/export.h): every reservation of their sessions,
 * held, consumed or released, with the lots reserved and the lots
 * consumed, as Reserve and Consume answer them (resv_load).
 *
 * One REPEATABLE READ transaction, so a reservation consumed meanwhile is
 * seen before or after, never half. The scope is every clinic holding a
 * reservation of the patient: whole or refused. Inventory does not own
 * the patient: one it never saw has an empty export. Lots are stock, not
 * patient data: only the lines drawn for the patient are in it. */
#include "inventory.h"

#include <stdlib.h>

#include "meso/export.h"

typedef struct {
    const char *patient;
    meso_reply_t *reply;
    resv_t *rs;
    Meso__V1__Reservation **ptrs;
    size_t n;
    bool refused;
} s_export_t;

static void
s_clear (s_export_t *x)
{
    for (size_t i = 0; i < x->n; i++)
        resv_free (&x->rs[i]);
    free (x->rs);
    free (x->ptrs);
    x->rs = NULL;
    x->ptrs = NULL;
    x->n = 0;
}

static int
s_read (meso_db_t *db, void *arg)
{
    s_export_t *x = arg;
    s_clear (x);
    PGresult *ids = store_reservations_of_patient (db, x->patient);
    if (!ids)
        return -1;
    int n = PQntuples (ids), rc = 0;
    for (int i = 0; i < n && rc == 0; i++)
        if (meso_export_need_clinic (x->reply, PQgetvalue (ids, i, 0)) != 0) {
            x->refused = true;
            rc = -1;
        }
    x->rs = calloc ((size_t) n + 1, sizeof *x->rs);
    x->ptrs = calloc ((size_t) n + 1, sizeof *x->ptrs);
    if (rc == 0 && (!x->rs || !x->ptrs)) {
        meso_reply_error (x->reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
        x->refused = true;
        rc = -1;
    }
    for (int i = 0; i < n && rc == 0; i++) {
        int found = resv_load (db, PQgetvalue (ids, i, 0), PQgetvalue (ids, i, 1), &x->rs[x->n]);
        if (found < 0)
            rc = -1;
        else if (found > 0) {
            x->ptrs[x->n] = &x->rs[x->n].msg;
            x->n++;
        }
    }
    PQclear (ids);
    return rc;
}

void
inventory_export_patient (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    (void) req;
    inventory_t *self = arg;
    Meso__V1__ExportPatientRequest *in = body;
    if (!meso_export_valid_id (reply, in->patient_id))
        return;
    s_export_t x = { .patient = in->patient_id, .reply = reply };
    if (meso_db_txn (self->db, MESO_DB_REPEATABLE_READ, s_read, &x) != 0) {
        if (!x.refused)
            meso_reply_db_error (reply, self->db, "cannot read the patient's reservations");
    }
    else {
        Meso__V1__InventoryExportPatientReply out = MESO__V1__INVENTORY_EXPORT_PATIENT_REPLY__INIT;
        out.n_reservations = x.n;
        out.reservations = x.ptrs;
        meso_export_reply (reply, &out.base, "inventory", in->patient_id);
    }
    s_clear (&x);
}
