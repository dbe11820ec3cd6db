/* emit.c -- meso-test-emit: writes N events of one stream into
 * events.outbox with meso_outbox_append, K per transaction, exactly as a
 * service records its changes. For shell tests and trying integrations;
 * not installed.
 *
 *     meso-test-emit --db CONNINFO --stream stock --count 50 [--per-txn 10]
 *                    [--clinic clinic-test] [--health]
 *
 * Each event carries a real payload of its stream (session.booked,
 * screening.completed, stock.low, billing.payment_received) with the
 * event's ordinal in it, so a reader can check what arrived. --health
 * writes events with health fields instead: session.completed with
 * clinical notes ("clinical note t-<n>"), an ineligible
 * screening.completed with a pregnancy reason. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "meso/config.h"
#include "meso/db.h"
#include "meso/log.h"
#include "meso/outbox.h"

typedef struct {
    const char *stream;
    const char *clinic;
    bool health;
    long from;                  /* ordinal of the first event of the batch */
    long n;
} s_batch_t;

static int
s_write (meso_db_t *db, void *arg)
{
    const s_batch_t *b = arg;
    for (long i = 0; i < b->n; i++) {
        long ordinal = b->from + i;
        char ref[32];
        snprintf (ref, sizeof ref, "t-%ld", ordinal);
        Meso__V1__Event ev = MESO__V1__EVENT__INIT;
        Meso__V1__Actor actor = MESO__V1__ACTOR__INIT;
        actor.kind = MESO__V1__ACTOR__KIND__KIND_SERVICE;
        actor.id = "meso-test-emit";
        ev.actor = &actor;
        ev.clinic_id = (char *) b->clinic;
        ev.clinic_time_zone = "Europe/Paris";
        Meso__V1__SessionInfo info = MESO__V1__SESSION_INFO__INIT;
        Meso__V1__SessionBooked booked = MESO__V1__SESSION_BOOKED__INIT;
        Meso__V1__ScreeningCompleted screened = MESO__V1__SCREENING_COMPLETED__INIT;
        Meso__V1__StockLow low = MESO__V1__STOCK_LOW__INIT;
        Meso__V1__PaymentReceived paid = MESO__V1__PAYMENT_RECEIVED__INIT;
        Meso__V1__SessionCompleted done = MESO__V1__SESSION_COMPLETED__INIT;
        Meso__V1__Reason reason = MESO__V1__REASON__INIT;
        Meso__V1__Reason *reasons[] = { &reason };
        char note[64];
        char *areas[] = { "thighs", "abdomen" };
        if (strcmp (b->stream, "session") == 0) {
            info.appointment_id = ref;
            info.patient_id = "patient-1";
            info.clinic_id = (char *) b->clinic;
            info.n_areas = 2;
            info.areas = areas;
            info.session_number = (uint32_t) (ordinal % 10) + 1;
            info.course_sessions = 10;
            booked.session = &info;
            ev.type = "session.booked";
            ev.payload_case = MESO__V1__EVENT__PAYLOAD_SESSION_BOOKED;
            ev.session_booked = &booked;
            if (b->health) {
                done.session = &info;
                done.outcome_case = MESO__V1__SESSION_COMPLETED__OUTCOME_IMPROVEMENT_SCORE;
                done.improvement_score = 2;
                snprintf (note, sizeof note, "clinical note %s", ref);
                done.notes = note;
                ev.type = "session.completed";
                ev.payload_case = MESO__V1__EVENT__PAYLOAD_SESSION_COMPLETED;
                ev.session_completed = &done;
            }
        }
        else if (strcmp (b->stream, "screening") == 0) {
            screened.patient_id = "patient-1";
            screened.screening_id = ref;
            screened.verdict = MESO__V1__VERDICT__VERDICT_ELIGIBLE;
            if (b->health) {
                reason.code = "pregnancy";
                reason.field = "answers.pregnancy";
                reason.message = "Pregnancy is an absolute contraindication.";
                screened.verdict = MESO__V1__VERDICT__VERDICT_INELIGIBLE;
                screened.n_reasons = 1;
                screened.reasons = reasons;
            }
            ev.type = "screening.completed";
            ev.payload_case = MESO__V1__EVENT__PAYLOAD_SCREENING_COMPLETED;
            ev.screening_completed = &screened;
        }
        else if (strcmp (b->stream, "stock") == 0) {
            low.ingredient_code = "caffeine";
            low.unit = MESO__V1__UNIT__UNIT_MG;
            low.available_milli = ordinal;
            low.reorder_point_milli = 100000;
            ev.type = "stock.low";
            ev.payload_case = MESO__V1__EVENT__PAYLOAD_STOCK_LOW;
            ev.stock_low = &low;
        }
        else {
            paid.payment_id = ref;
            paid.patient_id = "patient-1";
            paid.amount_cents = 35000;
            paid.currency = "EUR";
            paid.method = MESO__V1__PAYMENT_METHOD__PAYMENT_METHOD_CARD;
            ev.type = "billing.payment_received";
            ev.payload_case = MESO__V1__EVENT__PAYLOAD_PAYMENT_RECEIVED;
            ev.payment_received = &paid;
        }
        if (meso_outbox_append (db, &ev) != 0)
            return -1;
    }
    return 0;
}

int
main (int argc, char **argv)
{
    meso_opt_t opts[] = {
        { "db", "MESO_DB", "host=/var/run/postgresql dbname=meso", "libpq conninfo", NULL },
        { "stream", NULL, "stock", "session, screening, stock or billing", NULL },
        { "count", NULL, "10", "events to write", NULL },
        { "per-txn", NULL, "10", "events per transaction", NULL },
        { "clinic", NULL, "clinic-test", "the events' clinic", NULL },
        { "health", NULL, "false", "events with health fields (session.completed with notes, "
          "an ineligible screening with its reason)", NULL },
        { NULL, NULL, NULL, NULL, NULL }
    };
    int rc = meso_config_parse (opts, argc, argv, "meso-test-emit",
                                "Writes test events through the outbox.", NULL, NULL);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    long count, per;
    if (meso_config_int (opts, "count", 0, 10000000, &count)
        || meso_config_int (opts, "per-txn", 1, 100000, &per))
        return 2;
    const char *stream = meso_config_get (opts, "stream");
    bool health = meso_config_bool (opts, "health");
    if (strcmp (stream, "session") && strcmp (stream, "screening") && strcmp (stream, "stock")
        && strcmp (stream, "billing")) {
        fprintf (stderr, "meso-test-emit: unknown stream \"%s\"\n", stream);
        return 2;
    }
    meso_log_init ("meso-test-emit", "warn");
    meso_db_t *db = meso_db_new (meso_config_get (opts, "db"));
    if (!db)
        return 1;
    for (long done = 0; done < count; done += per) {
        s_batch_t b = { stream, meso_config_get (opts, "clinic"), health, done + 1,
                        count - done < per ? count - done : per };
        if (meso_db_txn (db, MESO_DB_READ_COMMITTED, s_write, &b) != 0) {
            const meso_db_error_t *e = meso_db_error (db);
            fprintf (stderr, "meso-test-emit: %s (SQLSTATE %s)\n", e->message, e->sqlstate);
            meso_db_destroy (&db);
            return 1;
        }
    }
    meso_db_destroy (&db);
    return 0;
}
