/* test_billing_gauges.c -- meso_clinic_revenue_today_cents, read from a
 * real meso-billing's /metrics (refreshed every second), against real
 * PostgreSQL and a real meso-events. Clinic G charges 20% tax, clinic H
 * has a price list and charges nothing. What happens today, and what G's
 * gauge must read after each step (cents):
 *
 *   no billing settings yet                 no series for G
 *   price list set                          0 (H: 0)
 *   a session completed, invoiced           36000 (gross, the tax inside)
 *   paid, then 10.00 refunded               36000 (nothing deducted)
 *   a package 2 x 350.00 sold               106000
 *   a session drawn from the package        106000 (counted at the sale)
 *
 * Billing runs without scheduling here, so every clinic's day is UTC's. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "billing_calls.h"

/* GET /metrics on 127.0.0.1:port: the response (malloc'd), NULL when
 * nothing listens. */
static char *
s_metrics (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    assert_true (fd >= 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
    sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    if (connect (fd, (struct sockaddr *) &sa, sizeof sa) != 0) {
        close (fd);
        return NULL;
    }
    const char *rq = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    assert_int_equal (write (fd, rq, strlen (rq)), (ssize_t) strlen (rq));
    size_t cap = 1 << 20, len = 0;
    char *buf = malloc (cap);
    assert_non_null (buf);
    ssize_t n;
    while (len < cap - 1 && (n = read (fd, buf + len, cap - len - 1)) > 0)
        len += (size_t) n;
    close (fd);
    buf[len] = '\0';
    return buf;
}

/* Waits (up to 10 s) until /metrics shows clinic's gauge at cents. */
static void
s_wait_gauge (int port, const char *clinic, int64_t cents)
{
    char line[160];
    snprintf (line, sizeof line, "\nmeso_clinic_revenue_today_cents{clinic=\"%s\"} %" PRId64 "\n",
              clinic, cents);
    bool seen = false;
    for (int i = 0; i < 100 && !seen; i++) {
        char *body = s_metrics (port);
        seen = body && strstr (body, line) && strstr (body, "# TYPE meso_clinic_revenue_today_cents gauge\n");
        free (body);
        if (!seen)
            mt_sleep_ms (100);
    }
    if (!seen)
        fail_msg ("no \"%s\" on /metrics", line + 1);
}

static void
test_revenue_today (void **state)
{
    (void) state;
    fx_t *fx = fx_setup ("bil_gauges");
    /* The fixture's billing again, serving metrics, its gauge refreshed
     * every second. */
    assert_int_equal (mt_stop (fx->pid, SIGTERM), 0);
    int port = mt_free_port ();
    char role[512], db[600], bind[300], ev[300], evp[300], metrics[64];
    mt_role_conninfo (fx->dbname, "meso_billing", role, sizeof role);
    snprintf (db, sizeof db, "--db=%s", role);
    snprintf (bind, sizeof bind, "--bind=%s", fx->router);
    snprintf (ev, sizeof ev, "--events=%s", fx->events_router);
    snprintf (evp, sizeof evp, "--events-pub=%s", fx->events_pub);
    snprintf (metrics, sizeof metrics, "--metrics=127.0.0.1:%d", port);
    const char *argv[] = { "meso-billing", db, bind, ev, evp, "--scheduling=", metrics, "--gauges-ms=1000",
                           NULL };
    fx->pid = mt_spawn ("bin/meso-billing", argv, NULL);
    assert_true (fx->pid > 0);
    assert_int_equal (mt_wait_healthy (fx->router, 10000), 0);

    /* Before G has any billing settings: no series. */
    char *body = NULL;
    for (int i = 0; i < 100 && !(body && strstr (body, "meso_build_info")); i++) {
        free (body);
        body = s_metrics (port);
        if (!body)
            mt_sleep_ms (100);
    }
    assert_non_null (body);
    assert_null (strstr (body, "clinic-g"));
    free (body);

    int64_t pg[] = { 36000 }, ph[] = { 40000 };
    assert_int_equal (fx_prices (fx, "clinic-g", -1, pg, 1, NULL), MESO_OK);
    assert_int_equal (fx_prices (fx, "clinic-h", -1, ph, 1, NULL), MESO_OK);
    const char *cats[] = { "standard" };
    const uint32_t ppm[] = { 200000 };
    assert_int_equal (bc_tax (fx, "clinic-g", -1, 1, cats, ppm), MESO_OK);
    s_wait_gauge (port, "clinic-g", 0);
    s_wait_gauge (port, "clinic-h", 0);

    /* A charged session: its invoice, gross. */
    fx_screened (fx, "pat-g");
    fx_session (fx, "session.completed", "clinic-g", "g-1", "pat-g", 1, 0, false, 0);
    fx_wait_cursor (fx, "session", fx->session_seq);
    assert_int_equal (fx_sql (fx, "SELECT total_cents FROM billing.invoice WHERE clinic_id = 'clinic-g'", NULL),
                      36000);
    s_wait_gauge (port, "clinic-g", 36000);

    /* Paid and partly refunded: what was charged stays. */
    PGresult *res = meso_db_query (fx->db, "SELECT invoice_id FROM billing.invoice WHERE clinic_id = 'clinic-g'",
                                   0, NULL);
    assert_non_null (res);
    char inv[64], pay[64];
    snprintf (inv, sizeof inv, "%s", PQgetvalue (res, 0, 0));
    PQclear (res);
    assert_int_equal (fx_pay (fx, "clinic-g", NULL, inv, 36000, NULL, NULL, pay), MESO_OK);
    assert_int_equal (bc_refund (fx, "clinic-g", pay, NULL, 1000, NULL), MESO_OK);
    /* A package sold counts at the sale ... */
    assert_int_equal (bc_sell (fx, "clinic-g", "pat-g", 2, 70000, NULL, NULL), MESO_OK);
    s_wait_gauge (port, "clinic-g", 106000);
    /* ... and not again when a session is drawn from it. */
    fx_session (fx, "session.completed", "clinic-g", "g-2", "pat-g", 1, 0, false, 0);
    fx_wait_cursor (fx, "session", fx->session_seq);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM billing.package_use WHERE clinic_id = 'clinic-g'", NULL),
                      1);
    mt_sleep_ms (1500);                 /* at least one refresh after the use */
    s_wait_gauge (port, "clinic-g", 106000);
    s_wait_gauge (port, "clinic-h", 0);
    fx_teardown (fx);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_revenue_today),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
