/* test_billing_ledger.c -- the books can be rebuilt from the billing event
 * stream alone. A randomised run of 300 operations (sessions charged on
 * invoices or drawn from packages across two clinics, manual invoices of
 * several taxed lines, payments, deposits, refunds by payment and by
 * invoice, cancellations, package sales and refunds, no-show fees, price
 * list, tax and package policy changes) goes through a real meso-billing;
 * then the billing stream is replayed from the real meso-events
 * (events.Replay, as an accounting integration would) into an
 * independent tally, which must equal, for every clinic and patient,
 * GetStatement's charged, credited, paid, refunded, tax and amount due,
 * and, per clinic, LiabilityReport's unused package value. Each invoice
 * event's lines must add up to its totals. The seed is printed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "billing_calls.h"

enum { NPAT = 6, NCLIN = 2, NOPS = 300, MAXPKG = 64 };
static const char *const s_clinics[NCLIN] = { "clinic-a", "clinic-b" };

typedef struct {
    int64_t charged, credited, paid, refunded, tax;
} s_books_t;

typedef struct {
    char clinic[16], id[40];
    int64_t value;              /* unused value, by the events */
    bool open;
} s_pkg_t;

static int
s_clinic_ix (const char *c)
{
    return strcmp (c, "clinic-b") == 0 ? 1 : 0;
}

static int
s_patient_ix (const char *p)
{
    return p && strncmp (p, "lp-", 3) == 0 ? atoi (p + 3) : -1;
}

static s_pkg_t *
s_pkg (s_pkg_t *pk, int *n, const char *clinic, const char *id)
{
    for (int i = 0; i < *n; i++)
        if (strcmp (pk[i].id, id) == 0 && strcmp (pk[i].clinic, clinic) == 0)
            return &pk[i];
    assert_true (*n < MAXPKG);
    s_pkg_t *p = &pk[(*n)++];
    snprintf (p->clinic, sizeof p->clinic, "%s", clinic);
    snprintf (p->id, sizeof p->id, "%s", id);
    return p;
}

/* Replays the billing stream into books and packages; returns events seen. */
static int
s_replay_tally (fx_t *fx, s_books_t books[NCLIN][NPAT], s_pkg_t *pk, int *npk)
{
    meso_bus_client_t *c = mt_client (fx->events_router);
    assert_non_null (c);
    uint64_t after = 0;
    int seen = 0;
    for (;;) {
        Meso__V1__ReplayRequest rq = MESO__V1__REPLAY_REQUEST__INIT;
        rq.stream = "billing";
        rq.after_seq = after;
        rq.limit = 1000;
        meso_result_t r = { 0 };
        assert_int_equal (meso_bus_client_call (c, "events.Replay", &rq.base, NULL, 5000, &r), MESO_OK);
        size_t len;
        const uint8_t *b = meso_result_body (&r, &len);
        Meso__V1__ReplayReply *rep = meso__v1__replay_reply__unpack (NULL, len, b);
        assert_non_null (rep);
        for (size_t i = 0; i < rep->n_events; i++) {
            const Meso__V1__Event *ev = rep->events[i];
            assert_int_equal (ev->stream_seq, after + 1);
            after = ev->stream_seq;
            seen++;
            int ci = s_clinic_ix (ev->clinic_id);
            switch (ev->payload_case) {
            case MESO__V1__EVENT__PAYLOAD_INVOICE_ISSUED: {
                const Meso__V1__InvoiceIssued *x = ev->invoice_issued;
                int pi = s_patient_ix (x->patient_id);
                assert_true (pi >= 0);
                int64_t g = 0, t = 0;
                for (size_t k = 0; k < x->n_lines; k++) {
                    g += x->lines[k]->gross_cents;
                    t += x->lines[k]->tax_cents;
                    assert_int_equal (x->lines[k]->net_cents + x->lines[k]->tax_cents, x->lines[k]->gross_cents);
                }
                assert_int_equal (g, x->amount_cents);
                assert_int_equal (t, x->tax_cents);
                assert_int_equal (x->net_cents + x->tax_cents, x->amount_cents);
                books[ci][pi].charged += x->amount_cents;
                books[ci][pi].tax += x->tax_cents;
                break;
            }
            case MESO__V1__EVENT__PAYLOAD_CREDIT_NOTE_ISSUED: {
                int pi = s_patient_ix (ev->credit_note_issued->patient_id);
                books[ci][pi].credited += ev->credit_note_issued->gross_cents;
                books[ci][pi].tax -= ev->credit_note_issued->tax_cents;
                break;
            }
            case MESO__V1__EVENT__PAYLOAD_PAYMENT_RECEIVED:
                books[ci][s_patient_ix (ev->payment_received->patient_id)].paid += ev->payment_received->amount_cents;
                break;
            case MESO__V1__EVENT__PAYLOAD_REFUND_ISSUED:
                books[ci][s_patient_ix (ev->refund_issued->patient_id)].refunded += ev->refund_issued->amount_cents;
                break;
            case MESO__V1__EVENT__PAYLOAD_PACKAGE_SOLD: {
                s_pkg_t *p = s_pkg (pk, npk, ev->clinic_id, ev->package_sold->package_id);
                p->value = ev->package_sold->price_cents;
                p->open = true;
                break;
            }
            case MESO__V1__EVENT__PAYLOAD_PACKAGE_SESSION_USED: {
                const Meso__V1__PackageSessionUsed *u = ev->package_session_used;
                s_pkg_t *p = s_pkg (pk, npk, u->package_clinic_id, u->package_id);
                p->value -= u->gross_cents;
                assert_true (p->value >= 0);
                if (u->last)
                    assert_int_equal (p->value, 0);   /* the leftover cents came with the last */
                break;
            }
            case MESO__V1__EVENT__PAYLOAD_PACKAGE_EXPIRED: {
                s_pkg_t *p = s_pkg (pk, npk, ev->clinic_id, ev->package_expired->package_id);
                assert_int_equal (p->value, ev->package_expired->unused_gross_cents);
                p->open = false;
                break;
            }
            case MESO__V1__EVENT__PAYLOAD_PACKAGE_REFUNDED: {
                s_pkg_t *p = s_pkg (pk, npk, ev->clinic_id, ev->package_refunded->package_id);
                assert_int_equal (p->value, ev->package_refunded->unused_gross_cents);
                p->open = false;
                break;
            }
            default:
                break;
            }
        }
        bool done = rep->n_events == 0 || after >= rep->head;
        meso__v1__replay_reply__free_unpacked (rep, NULL);
        meso_result_reset (&r);
        if (done)
            break;
    }
    meso_bus_client_destroy (&c);
    return seen;
}

static void
test_ledger_from_the_event_stream (void **state)
{
    (void) state;
    fx_t *fx = fx_setup ("bil_ledger");
    unsigned seed = (unsigned) meso_time_now_us ();
    const char *env = getenv ("MESO_TEST_SEED");
    if (env && *env)
        seed = (unsigned) strtoul (env, NULL, 10);
    srand (seed);
    printf ("random seed %u (MESO_TEST_SEED to replay)\n", seed);
    int64_t prices[] = { 35000, 42000, 48000 };
    const char *cats[] = { "standard", "reduced" };
    const uint32_t ppm[] = { 200000, 55000 };
    const char *star[] = { "*" };
    for (int c = 0; c < NCLIN; c++) {
        assert_int_equal (fx_prices (fx, s_clinics[c], -1, prices, 3, NULL), MESO_OK);
        assert_int_equal (bc_tax (fx, s_clinics[c], -1, 2, cats, ppm), MESO_OK);
        assert_int_equal (bc_policy (fx, s_clinics[c], 0, 1, star), MESO_OK);
    }
    Meso__V1__FeePolicy fp = MESO__V1__FEE_POLICY__INIT;
    fp.clinic_id = "clinic-a";
    fp.no_show_fee_cents = 5000;
    Meso__V1__SetFeePolicyRequest fr = MESO__V1__SET_FEE_POLICY_REQUEST__INIT;
    fr.policy = &fp;
    assert_int_equal (bc_call (fx, "billing.SetFeePolicy", &fr.base, NULL, NULL), MESO_OK);
    char pats[NPAT][16];
    for (int i = 0; i < NPAT; i++) {
        snprintf (pats[i], sizeof pats[i], "lp-%d", i);
        fx_screened (fx, pats[i]);
    }
    static char invs[NOPS][40], pays[NOPS][40], pkgs[NOPS][40];
    int inv_c[NOPS], pay_c[NOPS], pkg_c[NOPS];
    int ninv = 0, npay = 0, npkgs = 0, nsess = 0, counts[11] = { 0 }, ok = 0, refused = 0;
    for (int op = 0; op < NOPS; op++) {
        int p = rand () % NPAT, c = rand () % NCLIN, what = rand () % 11, st = MESO_OK;
        const char *clinic = s_clinics[c];
        counts[what]++;
        if (what == 0 || what == 1) {
            char appt[32];
            snprintf (appt, sizeof appt, "ls-%d", nsess++);
            fx_session (fx, what ? "session.no_show" : "session.completed", clinic, appt, pats[p],
                        (size_t) (1 + rand () % 3), rand () % 30, false, 0);
            continue;
        }
        if (what == 2) {
            int64_t cents[3];
            const char *lc[3];
            size_t n = (size_t) (1 + rand () % 3);
            for (size_t k = 0; k < n; k++) {
                cents[k] = 100 + rand () % 60000;
                lc[k] = rand () % 3 ? "" : "reduced";
            }
            Meso__V1__IssueInvoiceReply *ir = NULL;
            st = bc_invoice (fx, clinic, pats[p], n, cents, lc, &ir);
            if (st == MESO_OK) {
                snprintf (invs[ninv], sizeof invs[ninv], "%s", ir->invoice->invoice_id);
                inv_c[ninv++] = c;
            }
            bc_free (ir);
        }
        else if (what == 3 && ninv > 0) {
            int i = rand () % ninv;
            st = fx_pay (fx, s_clinics[inv_c[i]], NULL, invs[i], 1 + rand () % 40000, NULL, NULL, pays[npay]);
            if (st == MESO_OK)
                pay_c[npay++] = inv_c[i];
        }
        else if (what == 4) {
            st = fx_pay (fx, clinic, pats[p], NULL, 1 + rand () % 20000, NULL, NULL, pays[npay]);
            if (st == MESO_OK)
                pay_c[npay++] = c;
        }
        else if (what == 5 && npay > 0) {
            int i = rand () % npay;
            st = bc_refund (fx, s_clinics[pay_c[i]], pays[i], NULL, 1 + rand () % 15000, NULL);
        }
        else if (what == 6 && ninv > 0) {
            int i = rand () % ninv;
            st = bc_refund (fx, s_clinics[inv_c[i]], NULL, invs[i], 1 + rand () % 20000, NULL);
        }
        else if (what == 7 && ninv > 0) {
            int i = rand () % ninv;
            st = bc_cancel (fx, s_clinics[inv_c[i]], invs[i], NULL);
        }
        else if (what == 8) {
            uint32_t n = (uint32_t) (2 + rand () % 4);
            int64_t price = (int64_t) n * 30000 + rand () % (int64_t) (n * 20000);
            char last[16];
            fx_date (5 + rand () % 25, last);
            Meso__V1__SellPackageReply *sp = NULL;
            st = bc_sell (fx, clinic, pats[p], n, price, rand () % 2 ? last : NULL, &sp);
            if (st == MESO_OK) {
                snprintf (pkgs[npkgs], sizeof pkgs[npkgs], "%s", sp->package->package_id);
                pkg_c[npkgs++] = c;
                /* Pay part of it, so refunds have money to give back. */
                if (rand () % 2)
                    fx_pay (fx, clinic, NULL, sp->invoice->invoice_id, price / 2, NULL, NULL, NULL);
            }
            bc_free (sp);
        }
        else if (what == 9 && npkgs > 0) {
            int i = rand () % npkgs;
            st = bc_refund_package (fx, s_clinics[pkg_c[i]], pkgs[i], NULL);
        }
        else if (what == 10) {
            const uint32_t np[] = { (uint32_t) (rand () % 250000), 55000 };
            st = bc_tax (fx, clinic, rand () % 20, 2, cats, np);
        }
        else
            continue;
        assert_true (st == MESO_OK || st == MESO_FAILED_PRECONDITION);
        if (st == MESO_OK)
            ok++;
        else
            refused++;
    }
    fx_wait_cursor (fx, "session", fx->session_seq);
    printf ("300 operations: %d sessions/no-shows, %d accepted, %d refused; by kind", nsess, ok, refused);
    for (int i = 0; i < 11; i++)
        printf (" %d", counts[i]);
    printf ("\n");
    /* Everything relayed to the log, then replayed from the events daemon. */
    int64_t t0 = meso_time_mono_ms ();
    while (fx_sql (fx, "SELECT count (*) FROM events.outbox", NULL) > 0 && meso_time_mono_ms () - t0 < 15000)
        mt_sleep_ms (50);
    static s_books_t books[NCLIN][NPAT];
    static s_pkg_t pk[MAXPKG];
    int npk = 0;
    memset (books, 0, sizeof books);
    int seen = s_replay_tally (fx, books, pk, &npk);
    assert_int_equal (seen, fx_sql (fx, "SELECT count (*) FROM events.log WHERE stream = 'billing'", NULL));
    printf ("replayed %d billing events, %d packages\n", seen, npk);
    int compared = 0;
    for (int c = 0; c < NCLIN; c++)
        for (int i = 0; i < NPAT; i++) {
            Meso__V1__GetStatementReply *st = bc_statement (fx, s_clinics[c], pats[i]);
            s_books_t *b = &books[c][i];
            assert_int_equal (st->charged_cents, b->charged);
            assert_int_equal (st->credited_cents, b->credited);
            assert_int_equal (st->paid_cents, b->paid);
            assert_int_equal (st->refunded_cents, b->refunded);
            assert_int_equal (st->tax_cents, b->tax);
            assert_int_equal (st->amount_due_cents, b->charged - b->credited - b->paid + b->refunded);
            compared += b->charged != 0 || b->paid != 0;
            bc_free (st);
        }
    assert_true (compared > 0);
    /* The prepaid liability from the events equals the report's. */
    const char *ids[] = { "clinic-a", "clinic-b" };
    Meso__V1__LiabilityReportRequest lq = MESO__V1__LIABILITY_REPORT_REQUEST__INIT;
    lq.clinic_ids = (char **) ids;
    lq.n_clinic_ids = 2;
    Meso__V1__LiabilityReportReply *lr = NULL;
    assert_int_equal (bc_call (fx, "billing.LiabilityReport", &lq.base,
                               &meso__v1__liability_report_reply__descriptor, &lr), MESO_OK);
    for (int c = 0; c < NCLIN; c++) {
        int64_t v = 0;
        for (int k = 0; k < npk; k++)
            if (pk[k].open && strcmp (pk[k].clinic, s_clinics[c]) == 0)
                v += pk[k].value;
        assert_string_equal (lr->rows[c]->clinic_id, s_clinics[c]);
        assert_int_equal (lr->rows[c]->liability_cents, v);
    }
    bc_free (lr);
    fx_teardown (fx);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_ledger_from_the_event_stream),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
