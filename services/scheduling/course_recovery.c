/* course_recovery.c -- the recovery of a RescheduleCourse whose process
 * died between writing its pending change and moving the sessions
 * (course_changes.c, steps 2 to 4). The moves are step 4's one
 * transaction, so a change still pending never moved anything: recovery
 * re-dates the stock of each of its sessions back to the old date
 * (inventory.Redate, idempotent by its target date) and marks the change
 * undone. A change whose session advisory lock is held belongs to a live
 * process and is left alone; one that inventory cannot confirm stays
 * pending for the next tick (main.c, every 5 s). */
#include "scheduling.h"

#include "meso/log.h"

static int
s_undone_txn (meso_db_t *db, void *arg)
{
    return store_change_finish (db, arg, false) < 0 ? -1 : 0;
}

static int
s_recover_one (scheduling_t *self, const char *change_id)
{
    PGresult *res = store_change_items (self->db, change_id);
    if (!res)
        return -1;
    int failed = 0;
    for (int i = 0; i < PQntuples (res); i++) {
        meso_reply_t *r = meso_reply_new ();
        if (!r || peers_redate (self, PQgetvalue (res, i, 1), PQgetvalue (res, i, 0), PQgetvalue (res, i, 2),
                                "course reschedule undone by recovery", r) != 0)
            failed++;
        meso_reply_destroy (&r);
    }
    PQclear (res);
    if (failed)
        return -1;
    if (meso_db_txn (self->db, MESO_DB_READ_COMMITTED, s_undone_txn, (void *) change_id) != 0)
        return -1;
    meso_info ("recovery: course change %s undone (its process stopped before the move)", change_id);
    return 0;
}

int
course_changes_recover (scheduling_t *self)
{
    PGresult *res = store_change_pending (self->db);
    if (!res)
        return -1;
    int handled = 0;
    for (int i = 0; i < PQntuples (res); i++) {
        const char *id = PQgetvalue (res, i, 0);
        if (store_saga_lock (self->db, id, true) != 1)
            continue;           /* a live process runs it */
        if (s_recover_one (self, id) == 0)
            handled++;
        store_saga_unlock (self->db, id);
    }
    PQclear (res);
    return handled;
}
