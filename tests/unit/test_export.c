/* test_export.c -- the shared checks of <service>.ExportPatient
 * (common/src/export.c): the patient id, and a reply refused rather than
 * cut when it would not fit in a frame. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "meso/export.h"
#include "meso/page.h"
#include "meso/status.h"
#include "billing.pb-c.h"
#include "rpc.pb-c.h"

/* The reply as the client gets it. */
static Meso__V1__Reply *
s_envelope (meso_reply_t *reply)
{
    size_t len;
    uint8_t *packed = meso_reply_pack (reply, &len);
    assert_non_null (packed);
    Meso__V1__Reply *env = meso__v1__reply__unpack (NULL, len, packed);
    free (packed);
    assert_non_null (env);
    return env;
}

static void
test_patient_id (void **state)
{
    (void) state;
    meso_reply_t *reply = meso_reply_new ();
    assert_true (meso_export_valid_id (reply, "pat-1"));
    assert_int_equal (meso_reply_status (reply), MESO_OK);

    assert_false (meso_export_valid_id (reply, ""));
    Meso__V1__Reply *env = s_envelope (reply);
    assert_int_equal (env->status, MESO_INVALID_ARGUMENT);
    assert_int_equal (env->n_reasons, 1);
    assert_string_equal (env->reasons[0]->field, "patient_id");
    assert_string_equal (env->reasons[0]->code, "missing_field");
    meso__v1__reply__free_unpacked (env, NULL);

    char longid[MESO_EXPORT_ID_MAX + 2];
    memset (longid, 'p', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    meso_reply_reset (reply);
    assert_false (meso_export_valid_id (reply, longid));
    env = s_envelope (reply);
    assert_string_equal (env->reasons[0]->code, "too_long");
    meso__v1__reply__free_unpacked (env, NULL);
    longid[MESO_EXPORT_ID_MAX] = '\0';
    meso_reply_reset (reply);
    assert_true (meso_export_valid_id (reply, longid));
    meso_reply_destroy (&reply);
}

static void
test_reply_refused_not_cut (void **state)
{
    (void) state;
    /* 5000 refunds with 200-byte reasons: over 1 MiB packed. */
    size_t n = 5000;
    Meso__V1__Refund *rf = calloc (n, sizeof *rf);
    Meso__V1__Refund **rp = calloc (n, sizeof *rp);
    char reason[201];
    memset (reason, 'r', 200);
    reason[200] = '\0';
    for (size_t i = 0; i < n; i++) {
        meso__v1__refund__init (&rf[i]);
        rf[i].reason = reason;
        rf[i].refund_id = "11111111-2222-3333-4444-555555555555";
        rf[i].amount_cents = 100;
        rp[i] = &rf[i];
    }
    Meso__V1__BillingExportPatientReply out = MESO__V1__BILLING_EXPORT_PATIENT_REPLY__INIT;
    out.refunds = rp;
    out.n_refunds = n;
    assert_true (protobuf_c_message_get_packed_size (&out.base) > MESO_PAGE_REPLY_LIMIT);
    meso_reply_t *reply = meso_reply_new ();
    meso_export_reply (reply, &out.base, "billing", "pat-1");
    Meso__V1__Reply *env = s_envelope (reply);
    assert_int_equal (env->status, MESO_RESOURCE_EXHAUSTED);
    assert_int_equal (env->body.len, 0);
    assert_non_null (strstr (env->message, "billing export of patient pat-1"));
    meso__v1__reply__free_unpacked (env, NULL);

    /* The same with 1000 refunds fits, whole. */
    out.n_refunds = 1000;
    meso_reply_reset (reply);
    meso_export_reply (reply, &out.base, "billing", "pat-1");
    env = s_envelope (reply);
    assert_int_equal (env->status, MESO_OK);
    Meso__V1__BillingExportPatientReply *back =
        meso__v1__billing_export_patient_reply__unpack (NULL, env->body.len, env->body.data);
    assert_non_null (back);
    assert_int_equal (back->n_refunds, 1000);
    meso__v1__billing_export_patient_reply__free_unpacked (back, NULL);
    meso__v1__reply__free_unpacked (env, NULL);
    meso_reply_destroy (&reply);
    free (rf);
    free (rp);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_patient_id),
        cmocka_unit_test (test_reply_refused_not_cut),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
