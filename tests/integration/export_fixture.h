/* export_fixture.h -- what the export tests (test_export.c,
 * test_fhir_export.c) share on top of scheduling_fixture.h: a billing
 * daemon beside the fixture's, waiting for a count, and a call expected
 * to answer OK with its reply unpacked. Header-only, like the fixture. */
#ifndef EXPORT_FIXTURE_H
#define EXPORT_FIXTURE_H

#include "scheduling_fixture.h"

static pid_t s_billing_pid;
static char s_billing_ep[256];

static void
s_spawn_billing (fx_t *fx)
{
    char role[512], db[600], bind[300], ev[300], evp[300], sch[300];
    mt_ipc_endpoint ("bil", s_billing_ep, sizeof s_billing_ep);
    mt_role_conninfo (fx->dbname, "meso_billing", role, sizeof role);
    snprintf (db, sizeof db, "--db=%s", role);
    snprintf (bind, sizeof bind, "--bind=%s", s_billing_ep);
    snprintf (ev, sizeof ev, "--events=%s", fx->events_router);
    snprintf (evp, sizeof evp, "--events-pub=%s", fx->events_pub);
    snprintf (sch, sizeof sch, "--scheduling=%s", fx->sched_ep[0]);
    const char *argv[] = { "meso-billing", db, bind, ev, evp, sch, NULL };
    s_billing_pid = mt_spawn ("bin/meso-billing", argv, NULL);
    assert_true (s_billing_pid > 0);
    assert_int_equal (mt_wait_healthy (s_billing_ep, 10000), 0);
}

/* Waits until sql (one parameter) gives want. */
static void
s_wait (fx_t *fx, const char *sql, const char *p1, int64_t want)
{
    int64_t got = -1;
    for (int i = 0; i < 500 && got != want; i++) {
        got = fx_sql (fx, sql, p1);
        if (got != want)
            mt_sleep_ms (30);
    }
    if (got != want)
        fail_msg ("%s: %lld, want %lld", sql, (long long) got, (long long) want);
}

/* Calls method on c; the reply body unpacked with desc (OK expected). */
static ProtobufCMessage *
s_ok (fx_t *fx, meso_bus_client_t *c, const char *method, const ProtobufCMessage *body,
      const ProtobufCMessageDescriptor *desc)
{
    meso_result_t r = { 0 };
    if (fx_call (fx, c, method, body, NULL, &r) != MESO_OK)
        fail_msg ("%s: %s", method, r.message);
    size_t len;
    const uint8_t *b = meso_result_body (&r, &len);
    ProtobufCMessage *m = protobuf_c_message_unpack (desc, NULL, len, b);
    assert_non_null (m);
    meso_result_reset (&r);
    return m;
}

#endif
