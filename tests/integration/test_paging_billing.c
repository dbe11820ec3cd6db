/* test_paging_billing.c -- billing's list methods page (page_size,
 * page_token, next_page_token), against real PostgreSQL, a real
 * meso-billing and a real meso-events over real sockets:
 *   - a statement of 2,500 entries read 50 at a time while two threads
 *     record payments for the same patient: no entry is lost or read
 *     twice, and the pages put together are the final statement's entries
 *     up to the last one read (those recorded later come after it);
 *   - a page_size of 2 walks a small list exactly (GetStatement,
 *     GetPriceList's lists, GetPackage's appointments) and the figures of
 *     the whole account are on every page;
 *   - a garbled token, or a token of another list, is refused with
 *     INVALID_ARGUMENT naming page_token;
 *   - entries with 4 KB descriptions asked 2,000 at a time come in pages
 *     shrunk under the frame cap, not as a refusal;
 *   - mesoctl billing statement shows one page and the next token, takes
 *     that token, and with --all follows every page (each entry once). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>

#include "billing_calls.h"
#include "meso/page.h"

/* One page of a statement; status, reply into *out. */
static int
s_statement_page (fx_t *fx, const char *patient, uint32_t size, const char *token,
                  Meso__V1__GetStatementReply **out)
{
    Meso__V1__GetStatementRequest rq = MESO__V1__GET_STATEMENT_REQUEST__INIT;
    rq.clinic_id = "clinic-a";
    rq.patient_id = (char *) patient;
    rq.page_size = size;
    rq.page_token = (char *) (token ? token : "");
    return bc_call (fx, "billing.GetStatement", &rq.base, &meso__v1__get_statement_reply__descriptor, out);
}

/* Every entry's payment id (or invoice id) of a statement, page by page:
 * the ids into ids (at most max), the count returned; *pages counts. */
static size_t
s_walk_statement (fx_t *fx, const char *patient, uint32_t size, char (*ids)[48], size_t max,
                  int *pages)
{
    char token[MESO_PAGE_TOKEN_MAX] = "";
    size_t n = 0;
    *pages = 0;
    do {
        Meso__V1__GetStatementReply *st = NULL;
        assert_int_equal (s_statement_page (fx, patient, size, token, &st), MESO_OK);
        assert_true (st->n_entries <= size);
        (*pages)++;
        for (size_t i = 0; i < st->n_entries && n < max; i++)
            snprintf (ids[n++], 48, "%s", *st->entries[i]->payment_id ? st->entries[i]->payment_id
                                                                       : st->entries[i]->invoice_id);
        snprintf (token, sizeof token, "%s", st->next_page_token);
        if (*token)
            assert_true (st->n_entries > 0);
        bc_free (st);
    } while (*token);
    return n;
}

typedef struct {
    const char *router;
    atomic_int stop;
    atomic_int recorded;
} s_writer_t;

static void *
s_writer (void *arg)
{
    s_writer_t *w = arg;
    meso_bus_client_t *c = mt_client (w->router);
    static atomic_int base = 500000;
    int seq = atomic_fetch_add (&base, 100000);
    while (!atomic_load (&w->stop)) {
        Meso__V1__RecordPaymentRequest rq = MESO__V1__RECORD_PAYMENT_REQUEST__INIT;
        rq.clinic_id = "clinic-a";
        rq.patient_id = "pat-big";
        rq.target_case = MESO__V1__RECORD_PAYMENT_REQUEST__TARGET_DEPOSIT;
        rq.deposit = true;
        rq.amount_cents = 100;
        rq.method = MESO__V1__PAYMENT_METHOD__PAYMENT_METHOD_CASH;
        meso_result_t r = { 0 };
        if (mt_call (c, "billing.RecordPayment", &rq.base, NULL, &seq, &r) == MESO_OK)
            atomic_fetch_add (&w->recorded, 1);
        meso_result_reset (&r);
    }
    meso_bus_client_destroy (&c);
    return NULL;
}

/* n payments of pat at clinic-a straight into the tables (a long history
 * without 2,500 round trips), with descriptions of desc_len bytes. */
static void
s_history (fx_t *fx, const char *pat, int n, int desc_len)
{
    char sql[1400], np[16], dl[16];
    snprintf (np, sizeof np, "%d", n);
    snprintf (dl, sizeof dl, "%d", desc_len);
    snprintf (sql, sizeof sql,
              "WITH p AS (INSERT INTO billing.payment (clinic_id, payment_id, patient_id, amount_cents,"
              "  currency, method, provider, idempotency_key)"
              "  SELECT 'clinic-a', '%s-' || lpad (g::text, 6, '0'), '%s', 100, 'USD', 'cash', 'record',"
              "  '%s-key-' || g FROM generate_series (1, %s) g RETURNING payment_id)"
              " INSERT INTO billing.ledger (clinic_id, patient_id, kind, amount_cents, currency,"
              "  payment_id, description)"
              " SELECT 'clinic-a', '%s', 'payment', -100, 'USD', payment_id, repeat ('x', %s)"
              " FROM p ORDER BY payment_id",
              pat, pat, pat, np, pat, dl);
    assert_int_equal (meso_db_exec (fx->db, sql, 0, NULL), 0);
}

static void
test_statement_under_concurrent_inserts (void **state)
{
    (void) state;
    fx_t *fx = fx_setup ("pg_stmt");
    fx_screened (fx, "pat-big");
    s_history (fx, "pat-big", 2500, 20);
    s_writer_t w = { fx->router, 0, 0 };
    /* Two writers, so entries of the patient commit concurrently. */
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal (pthread_create (&t[i], NULL, s_writer, &w), 0);
    /* Let the writer start before the first page. */
    while (atomic_load (&w.recorded) < 3)
        mt_sleep_ms (5);
    static char walked[6000][48];
    int pages = 0;
    int before = atomic_load (&w.recorded);
    size_t n = s_walk_statement (fx, "pat-big", 50, walked, 6000, &pages);
    int during = atomic_load (&w.recorded) - before;
    atomic_store (&w.stop, 1);
    for (int i = 0; i < 2; i++)
        pthread_join (t[i], NULL);
    int recorded = atomic_load (&w.recorded);
    printf ("# walked %zu entries in %d pages; %d payments recorded during the walk, %d in all\n",
            n, pages, during, recorded);
    assert_true (during > 0);
    assert_true (n >= 2500 + 3);

    /* The final statement, read whole after the writer stopped. */
    static char final[6000][48];
    int fpages = 0;
    size_t nf = s_walk_statement (fx, "pat-big", 2000, final, 6000, &fpages);
    assert_int_equal (nf, (size_t) 2500 + (size_t) recorded);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM billing.ledger WHERE patient_id = $1", "pat-big"),
                      (int64_t) nf);
    /* The walk is the final list up to where it stopped: nothing lost,
     * nothing twice, in order; what it did not see was recorded after. */
    assert_true (n <= nf);
    for (size_t i = 0; i < n; i++)
        assert_string_equal (walked[i], final[i]);
    for (size_t i = 1; i < nf; i++)
        assert_string_not_equal (final[i], final[i - 1]);
    /* The figures are the whole account's on any page. */
    Meso__V1__GetStatementReply *st = NULL;
    assert_int_equal (s_statement_page (fx, "pat-big", 2, NULL, &st), MESO_OK);
    assert_int_equal (st->n_entries, 2);
    assert_int_equal (st->paid_cents, (int64_t) nf * 100);
    assert_int_equal (st->amount_due_cents, -(int64_t) nf * 100);
    bc_free (st);
    fx_teardown (fx);
}

static void
test_small_lists_walk_exactly (void **state)
{
    (void) state;
    fx_t *fx = fx_setup ("pg_small");
    fx_screened (fx, "pat-s");
    /* Statement: 5 invoices, pages of 2: 2, 2, 1. */
    int64_t one[] = { 35000 };
    char inv[5][48];
    for (int i = 0; i < 5; i++) {
        Meso__V1__IssueInvoiceReply *ir = NULL;
        assert_int_equal (bc_invoice (fx, "clinic-a", "pat-s", 1, one, NULL, &ir), MESO_OK);
        snprintf (inv[i], sizeof inv[i], "%s", ir->invoice->invoice_id);
        bc_free (ir);
    }
    char token[MESO_PAGE_TOKEN_MAX] = "";
    size_t want[] = { 2, 2, 1 }, at = 0;
    for (int p = 0; p < 3; p++) {
        Meso__V1__GetStatementReply *st = NULL;
        assert_int_equal (s_statement_page (fx, "pat-s", 2, token, &st), MESO_OK);
        assert_int_equal (st->n_entries, want[p]);
        for (size_t i = 0; i < st->n_entries; i++)
            assert_string_equal (st->entries[i]->invoice_id, inv[at++]);
        assert_int_equal (st->charged_cents, 5 * 35000);
        assert_int_equal (*st->next_page_token != '\0', p < 2);
        snprintf (token, sizeof token, "%s", st->next_page_token);
        bc_free (st);
    }
    /* No page_size: the whole (short) statement, as before paging. */
    Meso__V1__GetStatementReply *all = bc_statement (fx, "clinic-a", "pat-s");
    assert_int_equal (all->n_entries, 5);
    assert_string_equal (all->next_page_token, "");
    bc_free (all);

    /* Price lists from 5 dates, pages of 2. */
    int64_t prices[] = { 35000 };
    for (int d = 0; d < 5; d++)
        assert_int_equal (fx_prices (fx, "clinic-a", -10 + d, prices, 1, NULL), MESO_OK);
    *token = '\0';
    size_t lists = 0;
    char last[16] = "", price_token[MESO_PAGE_TOKEN_MAX] = "";
    for (int p = 0; p < 3; p++) {
        Meso__V1__GetPriceListRequest rq = MESO__V1__GET_PRICE_LIST_REQUEST__INIT;
        rq.clinic_id = "clinic-a";
        rq.page_size = 2;
        rq.page_token = token;
        Meso__V1__GetPriceListReply *pl = NULL;
        assert_int_equal (bc_call (fx, "billing.GetPriceList", &rq.base,
                                   &meso__v1__get_price_list_reply__descriptor, &pl), MESO_OK);
        assert_int_equal (pl->n_all, want[p]);
        for (size_t i = 0; i < pl->n_all; i++) {
            assert_true (strcmp (pl->all[i]->effective_from, last) > 0);
            snprintf (last, sizeof last, "%s", pl->all[i]->effective_from);
            lists++;
        }
        assert_non_null (pl->in_effect);
        assert_int_equal (*pl->next_page_token != '\0', p < 2);
        snprintf (token, sizeof token, "%s", pl->next_page_token);
        if (p == 0)
            snprintf (price_token, sizeof price_token, "%s", pl->next_page_token);
        bc_free (pl);
    }
    assert_int_equal (lists, 5);

    /* A package's appointments: 5 sessions drawn, pages of 2. */
    Meso__V1__SellPackageReply *sp = NULL;
    assert_int_equal (bc_sell (fx, "clinic-a", "pat-s", 6, 180000, NULL, &sp), MESO_OK);
    char pkg[48];
    snprintf (pkg, sizeof pkg, "%s", sp->package->package_id);
    bc_free (sp);
    const char *appts[] = { "ap-1", "ap-2", "ap-3", "ap-4", "ap-5" };
    for (int i = 0; i < 5; i++) {
        fx_session (fx, "session.completed", "clinic-a", appts[i], "pat-s", 1, 0, false, 0);
        fx_wait_cursor (fx, "session", fx->session_seq);
    }
    *token = '\0';
    at = 0;
    for (int p = 0; p < 3; p++) {
        Meso__V1__GetPackageRequest rq = MESO__V1__GET_PACKAGE_REQUEST__INIT;
        rq.clinic_id = "clinic-a";
        rq.package_id = pkg;
        rq.page_size = 2;
        rq.page_token = token;
        Meso__V1__GetPackageReply *gp = NULL;
        assert_int_equal (bc_call (fx, "billing.GetPackage", &rq.base,
                                   &meso__v1__get_package_reply__descriptor, &gp), MESO_OK);
        assert_int_equal (gp->n_appointment_ids, want[p]);
        for (size_t i = 0; i < gp->n_appointment_ids; i++)
            assert_string_equal (gp->appointment_ids[i], appts[at++]);
        assert_int_equal (gp->package->sessions_used, 5);
        assert_int_equal (*gp->next_page_token != '\0', p < 2);
        snprintf (token, sizeof token, "%s", gp->next_page_token);
        bc_free (gp);
    }
    assert_int_equal (at, 5);

    /* A garbled token and another list's token: INVALID_ARGUMENT naming
     * page_token, for each method. */
    const char *bad[] = { "garbage!", "cDEAAAAAAAAAAAA", price_token };
    for (int b = 0; b < 3; b++) {
        meso_result_t r = { 0 };
        Meso__V1__GetStatementRequest sq = MESO__V1__GET_STATEMENT_REQUEST__INIT;
        sq.clinic_id = "clinic-a";
        sq.patient_id = "pat-s";
        sq.page_token = (char *) bad[b];
        assert_int_equal (fx_call (fx, "billing.GetStatement", &sq.base, NULL, &r), MESO_INVALID_ARGUMENT);
        assert_true (r.reply->n_reasons >= 1);
        assert_string_equal (r.reply->reasons[r.reply->n_reasons - 1]->field, "page_token");
        meso_result_reset (&r);
        Meso__V1__GetPackageRequest pq = MESO__V1__GET_PACKAGE_REQUEST__INIT;
        pq.clinic_id = "clinic-a";
        pq.package_id = pkg;
        pq.page_token = (char *) bad[b];
        assert_int_equal (fx_call (fx, "billing.GetPackage", &pq.base, NULL, &r), MESO_INVALID_ARGUMENT);
        assert_string_equal (r.reply->reasons[r.reply->n_reasons - 1]->field, "page_token");
        meso_result_reset (&r);
    }
    meso_result_t r = { 0 };
    Meso__V1__GetPriceListRequest lq = MESO__V1__GET_PRICE_LIST_REQUEST__INIT;
    lq.clinic_id = "clinic-a";
    lq.page_token = "garbage";
    assert_int_equal (fx_call (fx, "billing.GetPriceList", &lq.base, NULL, &r), MESO_INVALID_ARGUMENT);
    assert_string_equal (r.reply->reasons[r.reply->n_reasons - 1]->field, "page_token");
    meso_result_reset (&r);
    fx_teardown (fx);
}

static void
test_page_shrinks_under_frame_cap (void **state)
{
    (void) state;
    fx_t *fx = fx_setup ("pg_cap");
    fx_screened (fx, "pat-long");
    /* 1,200 entries of 4 KB each: about 4.9 MB, asked 2,000 at a time. */
    s_history (fx, "pat-long", 1200, 4096);
    char token[MESO_PAGE_TOKEN_MAX] = "";
    size_t total = 0;
    int pages = 0;
    do {
        Meso__V1__GetStatementReply *st = NULL;
        assert_int_equal (s_statement_page (fx, "pat-long", 2000, token, &st), MESO_OK);
        assert_true (st->n_entries > 0);
        assert_true (protobuf_c_message_get_packed_size (&st->base) <= MESO_PAGE_REPLY_LIMIT);
        if (*st->next_page_token)
            assert_true (st->n_entries < 1200 - total);
        total += st->n_entries;
        pages++;
        snprintf (token, sizeof token, "%s", st->next_page_token);
        bc_free (st);
    } while (*token);
    printf ("# 1200 entries of 4 KB came in %d pages\n", pages);
    assert_int_equal (total, 1200);
    assert_true (pages >= 5);
    fx_teardown (fx);
}

/* Runs mesoctl as the tester against fx's billing daemon: its stdout into
 * out, its stderr into err; returns its exit status. */
static int
s_mesoctl (fx_t *fx, char *out, size_t size, char *err, size_t esize, const char *args)
{
    char errfile[] = "/tmp/pg_mesoctl_XXXXXX";
    int fd = mkstemp (errfile);
    assert_true (fd >= 0);
    close (fd);
    char cmd[4096];
    snprintf (cmd, sizeof cmd,
              "env MESO_KEYS='%s' MESO_KEY='%s/tester.key_secret' MESO_BILLING_ENDPOINT='%s' "
              "%s/bin/mesoctl %s 2>%s", mt_keys (), mt_keys (), fx->router, mt_build_dir (), args, errfile);
    FILE *p = popen (cmd, "r");
    assert_non_null (p);
    size_t n = fread (out, 1, size - 1, p);
    out[n] = '\0';
    int status = pclose (p);
    FILE *e = fopen (errfile, "r");
    n = e ? fread (err, 1, esize - 1, e) : 0;
    err[n] = '\0';
    if (e)
        fclose (e);
    unlink (errfile);
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static size_t
s_count (const char *text, const char *what)
{
    size_t n = 0;
    for (const char *p = strstr (text, what); p; p = strstr (p + 1, what))
        n++;
    return n;
}

static void
test_mesoctl_follows_pages (void **state)
{
    (void) state;
    fx_t *fx = fx_setup ("pg_ctl");
    fx_screened (fx, "pat-c");
    int64_t one[] = { 35000 };
    char inv[5][48];
    for (int i = 0; i < 5; i++) {
        Meso__V1__IssueInvoiceReply *ir = NULL;
        assert_int_equal (bc_invoice (fx, "clinic-a", "pat-c", 1, one, NULL, &ir), MESO_OK);
        snprintf (inv[i], sizeof inv[i], "%s", ir->invoice->invoice_id);
        bc_free (ir);
    }
    static char out[65536], err[4096];
    /* One page, and the token of the next one on stderr. */
    assert_int_equal (s_mesoctl (fx, out, sizeof out, err, sizeof err,
                                 "billing statement --clinic clinic-a --patient pat-c --page-size 2"), 0);
    assert_non_null (strstr (out, inv[0]));
    assert_non_null (strstr (out, inv[1]));
    assert_null (strstr (out, inv[2]));
    const char *t = strstr (err, "--page-token ");
    assert_non_null (t);
    char token[MESO_PAGE_TOKEN_MAX], args[1024];
    sscanf (t + strlen ("--page-token "), "%511s", token);
    /* That token: the next page. */
    snprintf (args, sizeof args,
              "billing statement --clinic clinic-a --patient pat-c --page-size 2 --page-token %s", token);
    assert_int_equal (s_mesoctl (fx, out, sizeof out, err, sizeof err, args), 0);
    assert_null (strstr (out, inv[1]));
    assert_non_null (strstr (out, inv[2]));
    assert_non_null (strstr (out, inv[3]));
    /* --all: every entry once, the figures once, at the end. */
    assert_int_equal (s_mesoctl (fx, out, sizeof out, err, sizeof err,
                                 "billing statement --clinic clinic-a --patient pat-c --page-size 2 --all"), 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal (s_count (out, inv[i]), 1);
    assert_int_equal (s_count (out, "statement of patient"), 1);
    assert_int_equal (s_count (out, "  charged "), 1);
    assert_null (strstr (err, "more follow"));
    /* --all --json: one JSON object per page, 2 + 2 + 1 entries. */
    assert_int_equal (s_mesoctl (fx, out, sizeof out, err, sizeof err,
                                 "billing statement --clinic clinic-a --patient pat-c --page-size 2 --all --json"),
                      0);
    assert_int_equal (s_count (out, "\n"), 3);
    assert_int_equal (s_count (out, "\"kind\":\"STATEMENT_ENTRY_KIND_CHARGE\""), 5);
    /* A garbled token: refused naming page_token, exit 1. */
    assert_int_equal (s_mesoctl (fx, out, sizeof out, err, sizeof err,
                                 "billing statement --clinic clinic-a --patient pat-c --page-token nope"), 1);
    assert_non_null (strstr (err, "page_token"));
    fx_teardown (fx);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_statement_under_concurrent_inserts),
        cmocka_unit_test (test_small_lists_walk_exactly),
        cmocka_unit_test (test_page_shrinks_under_frame_cap),
        cmocka_unit_test (test_mesoctl_follows_pages),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
