/* saga.c -- booking a course: a saga across scheduling, screening and
 * inventory, and its recovery after a crash.
 *
 *   0. replay: a request whose idempotency key already booked gets the
 *      stored reply; a key whose booking is still running is refused
 *      (ABORTED with the reason "in_progress": the client library keeps
 *      waiting for the running attempt's reply and resending, since that
 *      is mostly its own resend reaching another instance or worker, see
 *      bus_client.c; a booking left pending by a dead process is finished
 *      by recovery, and a resend then gets its stored reply);
 *   1. inventory.GetRecipe for the cocktail (the recipes are inventory's:
 *      scheduling never reads its tables; the version it returns is the one
 *      the appointments record and Reserve uses), then screening.Check for
 *      its ingredients on the first day;
 *   2. one transaction inserts the course and its appointments as
 *      'pending' (the exclusion constraints refuse any double booking),
 *      while this process takes a session advisory lock on the course: the
 *      lock says "a live process is running this saga";
 *   3. inventory.Reserve per appointment (idempotent by appointment id);
 *   4. one transaction marks everything 'booked', appends one
 *      session.booked per session to the outbox and stores the reply under
 *      the idempotency key.
 *
 * A refusal at step 3 undoes: Release every appointment (releasing one
 * never reserved is a no-op), delete the pending appointments, mark the
 * course failed. When inventory cannot be reached the course stays
 * pending and recovery finishes it later.
 *
 * Recovery (at start-up, then every few seconds) takes every pending
 * course whose advisory lock is free -- its process died, since a live one
 * holds the lock until the end -- and drives it forward: Reserve again
 * (idempotent, so a reservation made before the crash is found, not made
 * twice), then step 4; or, when a Reserve is refused, the undo. Either way
 * the booking ends complete (booked, stock held, events out, reply stored
 * for the client's retry) or absent (no appointment, nothing held).
 *
 * The window this leaves: a Reserve sent by a process that then died may
 * still be queued at inventory when recovery releases the appointment.
 * Inventory closes it: a Release of an appointment it never reserved
 * records a released reservation, and a later Reserve of a released
 * appointment is refused, so the late Reserve holds nothing.
 *
 * A slot taken between the plan and step 2 (another booking inserted it
 * first: the exclusion constraints refuse the insert) does not fail a
 * BookCourse: that one session is re-planned (replan.c, the course's
 * rules) and step 2 runs again, at most SAGA_REPLAN_ATTEMPTS times; the
 * moves are kept with the course (scheduling.course_replanned) and the
 * reply names them (BookCourseReply.replanned). BookSession asked for its
 * exact slot, so it is refused instead.
 *
 * MESO_SCHEDULING_TEST_WAIT_FILE=path (tests only) makes a BookCourse
 * create the file after step 1 (a RescheduleCourse after its re-dates)
 * and wait (at most 30 s) until it is removed, so a test can take a
 * planned slot in between from another instance.
 *
 * MESO_SCHEDULING_TEST_PAUSE_AT=N (tests only) stops the process for good
 * at step N (1 after the screening check, 2 after the pending insert, 3
 * after the first reservation, 4 after all reservations, 5 after the final
 * commit, before the reply), so tests can SIGKILL it exactly there.
 *
 * The saga is called by the booking methods (courses.c) and calls only
 * down: the other services through peers.c, the rows and the course reply
 * through rows.c, its SQL through store_saga.c. */
#include "scheduling.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "events.pb-c.h"
#include "meso/audit.h"
#include "meso/idem.h"
#include "meso/log.h"
#include "meso/metrics.h"
#include "meso/outbox.h"
#include "meso/uuid.h"

#define SAGA_REPLAN_ATTEMPTS 3

void
saga_pause_point (scheduling_t *self, int step)
{
    if (self->pause_at != step)
        return;
    meso_warn ("test pause at saga step %d", step);
    if (self->pause_file[0]) {
        FILE *f = fopen (self->pause_file, "w");
        if (f) {
            fprintf (f, "%d\n", step);
            fclose (f);
        }
    }
    /* The whole process stops, as a dead one would: with workers, pausing
     * this thread alone would leave the others serving (a client's retry
     * of this very request among them). SIGKILL still ends it. */
    for (;;)
        raise (SIGSTOP);
}

/* Step 0, the replay of a key already booked: saga_replay.c. */

/* ------------------------------------------------- step 2: pending rows */

typedef struct {
    sched_booking_t *b;
    char course_id[40];
    int recipe_version;
    meso_reply_t *reply;
    int conflict;                       /* the slot refused as taken, -1 none */
} s_insert_t;

static int
s_insert_txn (meso_db_t *db, void *arg)
{
    s_insert_t *x = arg;
    sched_booking_t *b = x->b;
    char areas[SCHED_MAX_AREAS * (SCHED_ID_MAX + 1) + 4];
    store_array_literal (areas, sizeof areas, b->areas, b->n_areas);
    /* With the request body, so recovery can store the reply for the key. */
    store_saga_course_t c = {
        .clinic_id = b->clinic.clinic_id, .course_id = x->course_id, .patient_id = b->patient_id,
        .grade = b->grade, .mild = b->mild, .areas = areas, .recipe_id = b->recipe_id,
        .recipe_version = x->recipe_version, .sessions = b->n,
        .idem_key = b->req->idempotency_key && b->req->idempotency_key[0] ? b->req->idempotency_key : NULL,
        .method = b->req->method, .request = b->req->body.data, .request_len = b->req->body.len
    };
    if (store_saga_insert_course (db, &c) != 0)
        goto db_error;
    if (b->requested_first && store_course_note (db, x->course_id, b->requested_first, b->first_note) != 0)
        goto db_error;
    for (int i = 0; i < b->n; i++) {
        sched_slot_t *s = &b->slots[i];
        store_saga_appointment_t ap = {
            .appointment_id = s->appointment_id, .practitioner_id = s->practitioner_id,
            .room_id = s->room_id, .start_us = s->starts_us, .end_us = s->ends_us,
            .number = s->session_number, .maintenance = s->maintenance
        };
        if (store_saga_insert_appointment (db, &c, &ap) != 0) {
            const meso_db_error_t *e = meso_db_error (db);
            if (strcmp (e->sqlstate, "23P01") == 0) {
                const char *what = strstr (e->message, "practitioner") ? "the practitioner"
                                 : strstr (e->message, "room") ? "the room"
                                 : strstr (e->message, "patient") ? "the patient" : "the slot";
                meso_reply_error (x->reply, MESO_ALREADY_EXISTS,
                                  "session %d at %s: %s is already booked", s->session_number,
                                  s->local_start, what);
                meso_reply_detail (x->reply, "%s", e->detail);
                meso_reply_reason (x->reply, "slot_taken", "local_start",
                                   "session %d (%s, practitioner %s, room %s) overlaps an active booking",
                                   s->session_number, s->local_start, s->practitioner_id, s->room_id);
                x->conflict = i;
                return -1;
            }
            goto db_error;
        }
    }
    for (int k = 0; k < b->n_moved; k++) {
        const sched_slot_t *s = &b->slots[b->moved[k].index];
        if (store_replanned_insert (db, b->clinic.clinic_id, x->course_id, s->session_number, s->appointment_id,
                                    b->moved[k].original_us, b->moved[k].original_local) != 0)
            goto db_error;
    }
    return 0;
db_error:
    if (strcmp (meso_db_error (db)->sqlstate, "23505") == 0) {
        meso_reply_error (x->reply, MESO_ABORTED,
                          "a booking with this idempotency key is in progress; retry in a few seconds");
        meso_reply_reason (x->reply, MESO_REASON_IN_PROGRESS, "idempotency_key",
                           "a booking with this key is running; its reply answers this request");
    }
    else
        meso_reply_db_error (x->reply, db, "booking");
    return -1;
}

/* ------------------------------------------- step 3: reservations */

/* The pending appointments of a course as reservation requests. */
static int
s_pending (meso_db_t *db, const char *course_id, sched_reservation_t **out)
{
    PGresult *res = store_saga_pending (db, course_id);
    if (!res)
        return -1;
    int n = PQntuples (res);
    *out = calloc ((size_t) n + 1, sizeof **out);
    if (!*out) {
        PQclear (res);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        sched_reservation_t *x = &(*out)[i];
        snprintf (x->appointment_id, sizeof x->appointment_id, "%s", PQgetvalue (res, i, 0));
        snprintf (x->clinic_id, sizeof x->clinic_id, "%s", PQgetvalue (res, i, 1));
        snprintf (x->patient_id, sizeof x->patient_id, "%s", PQgetvalue (res, i, 2));
        snprintf (x->date, sizeof x->date, "%s", PQgetvalue (res, i, 3));
        snprintf (x->recipe_id, sizeof x->recipe_id, "%s", PQgetvalue (res, i, 4));
        x->recipe_version = atoi (PQgetvalue (res, i, 5));
        snprintf (x->areas, sizeof x->areas, "%s", PQgetvalue (res, i, 6));
    }
    PQclear (res);
    return n;
}

/* --------------------------------------------------- undo and finalize */

typedef struct {
    const char *course_id;
    const char *why;
} s_undo_t;

static int
s_undo_txn (meso_db_t *db, void *arg)
{
    s_undo_t *u = arg;
    return store_saga_undo (db, u->course_id, u->why);
}

/* Releases what may be held and removes the pending booking. 0 done, -1
 * when inventory could not confirm a release (the course stays pending
 * for recovery to try again). */
static int
s_undo (scheduling_t *self, const char *course_id, sched_reservation_t *items, int n, const char *why)
{
    int failed = 0;
    for (int i = 0; i < n; i++)
        if (peers_release (self, items[i].clinic_id, items[i].appointment_id) != 0)
            failed++;
    if (failed)
        return -1;
    s_undo_t u = { course_id, why };
    if (meso_db_txn (self->db, MESO_DB_READ_COMMITTED, s_undo_txn, &u) != 0) {
        meso_error ("undo of course %s failed: %s", course_id, meso_db_error (self->db)->message);
        return -1;
    }
    return 0;
}

typedef struct {
    const char *course_id;
    const Meso__V1__Request *req;      /* NULL: no key to store under */
    meso_reply_t *reply;
} s_final_t;

static int
s_final_txn (meso_db_t *db, void *arg)
{
    s_final_t *f = arg;
    meso_reply_reset (f->reply);
    if (f->req) {
        int rc = meso_idem_claim (db, SCHED_SCHEMA, f->req, f->reply);
        if (rc != 0)
            return -1;
    }
    int changed = store_saga_confirm (db, f->course_id);
    if (changed < 0)
        goto db_error;
    if (!changed) {
        meso_reply_error (f->reply, MESO_ABORTED, "course %s is no longer pending", f->course_id);
        return -1;
    }
    /* The course, its sessions and its moves, read once for the events
     * and the reply. */
    PGresult *r[3];
    if (store_course_read (db, f->course_id, r) != 0)
        goto db_error;
    PGresult *res = r[1];
    for (int i = 0; i < PQntuples (res); i++) {
        Meso__V1__SessionInfo info;
        char *areas[SCHED_MAX_AREAS];
        rows_info (res, i, &info, areas);
        Meso__V1__SessionBooked sb = MESO__V1__SESSION_BOOKED__INIT;
        sb.session = &info;
        Meso__V1__Event ev = MESO__V1__EVENT__INIT;
        ev.type = "session.booked";
        ev.clinic_id = info.clinic_id;
        ev.payload_case = MESO__V1__EVENT__PAYLOAD_SESSION_BOOKED;
        ev.session_booked = &sb;
        if (meso_outbox_append (db, &ev) != 0) {
            for (int k = 0; k < 3; k++)
                PQclear (r[k]);
            goto db_error;
        }
    }
    int rc = rows_reply_course_read (r, f->course_id, f->reply);
    for (int k = 0; k < 3; k++)
        PQclear (r[k]);
    if (rc != 0)
        return -1;
    if (f->req && meso_idem_store (db, SCHED_SCHEMA, f->req, f->reply) != 0)
        return -1;
    /* The booking's audit row, last (nothing outside a request: recovery). */
    if (meso_audit_append (db, f->reply) != 0) {
        meso_reply_db_error (f->reply, db, "audit trail");
        return -1;
    }
    return 0;
db_error:
    meso_reply_db_error (f->reply, db, "booking");
    return -1;
}

/* ------------------------------------------------------------ the saga */

/* Re-plans slot i of b, remembering where it had been planned first. 0
 * moved, else nothing free or an error (the refusal stands). */
static int
s_replan (scheduling_t *self, sched_booking_t *b, int i)
{
    sched_slot_t before = b->slots[i];
    if (replan_session (self, b, i) != 0)
        return -1;
    int k = 0;
    while (k < b->n_moved && b->moved[k].index != i)
        k++;
    if (k == b->n_moved && k < PLANNER_MAX_SESSIONS) {
        b->moved[k].index = i;
        b->moved[k].original_us = before.starts_us;
        snprintf (b->moved[k].original_local, sizeof b->moved[k].original_local, "%s", before.local_start);
        b->n_moved++;
    }
    meso_info ("session %d of a course re-planned: %s taken, %s instead", before.session_number,
               before.local_start, b->slots[i].local_start);
    return 0;
}

void
saga_wait_point (void)
{
    const char *path = getenv ("MESO_SCHEDULING_TEST_WAIT_FILE");
    if (!path || !path[0])
        return;
    FILE *f = fopen (path, "w");
    if (!f)
        return;
    fclose (f);
    for (int i = 0; i < 600 && access (path, F_OK) == 0; i++)
        usleep (50000);
}

void
saga_book (scheduling_t *self, sched_booking_t *b, meso_reply_t *reply)
{
    /* Step 0 ran already: both callers ask saga_replayed before they plan.
     * A request with the same key that got further meanwhile still books
     * once: its course holds the key (course_idem_idx), so this insert is
     * refused as ABORTED and the retry gets the stored reply. */
    const Meso__V1__Request *req = b->req;
    bool keyed = req->idempotency_key && req->idempotency_key[0];

    /* Step 1: the recipe's ingredients (inventory's latest version, which
     * the appointments record and Reserve uses), and screening. */
    sched_recipe_t recipe;
    if (peers_recipe (self, b->recipe_id, 0, b->areas, b->n_areas, &recipe, reply) != 0)
        return;
    int version = (int) recipe.version;
    meso_result_t r = { 0 };
    if (peers_check (self, b->patient_id, &recipe, b->slots[0].local_date, b->clinic.clinic_id, true,
                     &r) != 0) {
        peers_copy_refusal (reply, &r, "screening refused the booking");
        meso_result_reset (&r);
        return;
    }
    meso_result_reset (&r);
    saga_pause_point (self, 1);

    /* Step 2: pending appointments, under this process's lock. */
    s_insert_t ins = { b, "", version, reply, -1 };
    if (meso_uuid_v4 (ins.course_id) != 0) {
        meso_reply_error (reply, MESO_INTERNAL, "no randomness for ids");
        return;
    }
    for (int i = 0; i < b->n; i++)
        if (meso_uuid_v4 (b->slots[i].appointment_id) != 0) {
            meso_reply_error (reply, MESO_INTERNAL, "no randomness for ids");
            return;
        }
    if (store_saga_lock (self->db, ins.course_id, false) != 1) {
        meso_reply_db_error (reply, self->db, "booking lock");
        return;
    }
    if (b->requested_first)
        saga_wait_point ();
    for (int attempt = 0;; attempt++) {
        ins.conflict = -1;
        if (meso_db_txn (self->db, MESO_DB_READ_COMMITTED, s_insert_txn, &ins) == 0)
            break;
        if (meso_reply_status (reply) == MESO_OK)
            meso_reply_db_error (reply, self->db, "booking");
        /* A course's slot taken since the plan: that session is planned
         * again, the others keep theirs. */
        if (ins.conflict >= 0 && b->requested_first && attempt < SAGA_REPLAN_ATTEMPTS
            && meso_reply_status (reply) == MESO_ALREADY_EXISTS && s_replan (self, b, ins.conflict) == 0) {
            meso_reply_reset (reply);
            continue;
        }
        store_saga_unlock (self->db, ins.course_id);
        return;
    }
    saga_pause_point (self, 2);

    /* Step 3: stock per session (the rows just inserted, from memory;
     * recovery reads them back with s_pending). */
    int n = b->n;
    sched_reservation_t *items = calloc ((size_t) n + 1, sizeof *items);
    if (!items) {
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
        store_saga_unlock (self->db, ins.course_id);
        return;         /* recovery finishes it */
    }
    char list[sizeof items[0].areas];
    size_t used = 0;
    list[0] = '\0';
    for (size_t k = 0; k < b->n_areas && used < sizeof list; k++)
        used += (size_t) snprintf (list + used, sizeof list - used, "%s%s", k ? "," : "", b->areas[k]);
    for (int i = 0; i < n; i++) {
        sched_reservation_t *x = &items[i];
        snprintf (x->appointment_id, sizeof x->appointment_id, "%s", b->slots[i].appointment_id);
        snprintf (x->clinic_id, sizeof x->clinic_id, "%s", b->clinic.clinic_id);
        snprintf (x->patient_id, sizeof x->patient_id, "%s", b->patient_id);
        snprintf (x->date, sizeof x->date, "%s", b->slots[i].local_date);
        snprintf (x->recipe_id, sizeof x->recipe_id, "%s", b->recipe_id);
        x->recipe_version = version;
        snprintf (x->areas, sizeof x->areas, "%s", list);
    }
    int refused = 0, unreachable = 0;
    for (int i = 0; i < n && !refused && !unreachable; i++) {
        int rc = peers_reserve (self, &items[i], reply);
        if (rc > 0)
            refused = 1;
        else if (rc < 0)
            unreachable = 1;
        else if (i == 0)
            saga_pause_point (self, 3);
    }
    if (refused || unreachable) {
        /* keep the refusal in reply; the undo only logs */
        if (s_undo (self, ins.course_id, items, n, meso_reply_status (reply) == MESO_RESOURCE_EXHAUSTED
                    ? "not enough stock" : "stock could not be reserved") != 0)
            meso_warn ("course %s left pending for recovery", ins.course_id);
        free (items);
        store_saga_unlock (self->db, ins.course_id);
        return;
    }
    free (items);
    saga_pause_point (self, 4);

    /* Step 4: booked, events, reply stored under the key. */
    s_final_t f = { ins.course_id, keyed ? req : NULL, reply };
    if (meso_db_txn (self->db, MESO_DB_READ_COMMITTED, s_final_txn, &f) != 0) {
        if (meso_reply_status (reply) == MESO_OK)
            meso_reply_db_error (reply, self->db, "booking");
        meso_warn ("course %s: final step failed; recovery will finish it", ins.course_id);
    }
    store_saga_unlock (self->db, ins.course_id);
    saga_pause_point (self, 5);
}

/* ------------------------------------------------------------ recovery */

static int
s_recover_one (scheduling_t *self, const char *course_id)
{
    PGresult *res = store_saga_course (self->db, course_id);
    if (!res)
        return -1;
    if (PQntuples (res) != 1 || strcmp (PQgetvalue (res, 0, 0), "pending") != 0) {
        PQclear (res);
        return 0;               /* finished meanwhile */
    }
    Meso__V1__Request req = MESO__V1__REQUEST__INIT;
    char key[256], method[128];
    size_t blen = 0;
    unsigned char *body = NULL;
    bool keyed = !PQgetisnull (res, 0, 1);
    if (keyed) {
        snprintf (key, sizeof key, "%s", PQgetvalue (res, 0, 1));
        snprintf (method, sizeof method, "%s", PQgetvalue (res, 0, 2));
        body = PQunescapeBytea ((const unsigned char *) PQgetvalue (res, 0, 3), &blen);
        req.idempotency_key = key;
        req.method = method;
        req.request_id = "recovery";
        req.body.data = body;
        req.body.len = blen;
    }
    PQclear (res);

    meso_reply_t *reply = meso_reply_new ();
    sched_reservation_t *items = NULL;
    int n = s_pending (self->db, course_id, &items);
    int rc = 0;
    if (n < 0 || !reply)
        rc = -1;
    int refused = 0, unreachable = 0;
    for (int i = 0; rc == 0 && i < n && !refused && !unreachable; i++) {
        int x = peers_reserve (self, &items[i], reply);
        refused = x > 0;
        unreachable = x < 0;
    }
    if (rc == 0 && unreachable)
        rc = -1;
    else if (rc == 0 && refused) {
        meso_info ("recovery: course %s undone (%s)", course_id, "a reservation was refused");
        rc = s_undo (self, course_id, items, n, "undone by recovery: stock could not be reserved");
    }
    else if (rc == 0) {
        s_final_t f = { course_id, keyed ? &req : NULL, reply };
        rc = meso_db_txn (self->db, MESO_DB_READ_COMMITTED, s_final_txn, &f);
        if (rc == 0)
            meso_info ("recovery: course %s booked", course_id);
        else
            meso_warn ("recovery: course %s not finished: %s", course_id,
                       meso_db_error (self->db)->message);
    }
    free (items);
    meso_reply_destroy (&reply);
    if (body)
        PQfreemem (body);
    return rc;
}

int
saga_recover (scheduling_t *self)
{
    /* Before recovering: what the operator sees is what recovery found. A
     * saga running in a live process is pending for well under a second; one
     * pending for minutes is stuck (its peer keeps refusing, or recovery
     * cannot reach it). */
    int64_t pending;
    double oldest;
    if (store_saga_pending_stats (self->db, &pending, &oldest) == 0) {
        meso_metrics_set ("meso_saga_pending", "Bookings whose saga has not finished (pending courses).",
                          NULL, NULL, (double) pending);
        meso_metrics_set ("meso_saga_pending_oldest_seconds",
                          "Age of the oldest pending course (0 when none).", NULL, NULL, oldest);
    }
    PGresult *res = store_saga_pending_courses (self->db);
    if (!res)
        return -1;
    int handled = 0;
    for (int i = 0; i < PQntuples (res); i++) {
        const char *id = PQgetvalue (res, i, 0);
        int got = store_saga_lock (self->db, id, true);
        if (got != 1)
            continue;           /* a live process runs it */
        if (s_recover_one (self, id) == 0)
            handled++;
        store_saga_unlock (self->db, id);
    }
    PQclear (res);
    return handled;
}
