/* settings.c -- the clinic settings aggregate: SetClinicSettings.
 *
 * A clinic's settings are the numbers the articles leave open (oldest age
 * treated, the obesity threshold, how long a screening holds). Only this
 * method writes them; RecordScreening and Check read them through
 * store_settings_get, which gives the defaults to a clinic that never set
 * any. What a request's values become (0 keeps the default) and which are
 * in range are rules (rules_settings_from, rules_settings_valid). */
#include "screening.h"

#include <stdio.h>

typedef struct {
    const char *clinic_id;
    rules_settings_t settings;
} s_settings_t;

static int
s_settings_txn (meso_db_t *db, screening_call_t *c)
{
    s_settings_t *st = c->state;
    if (store_settings_set (db, st->clinic_id, &st->settings) != 0) {
        meso_reply_db_error (c->reply, db, "cannot store the clinic settings");
        return -1;
    }
    Meso__V1__ClinicSettings ps;
    screening_settings_proto (st->clinic_id, &st->settings, &ps);
    Meso__V1__SetClinicSettingsReply out = MESO__V1__SET_CLINIC_SETTINGS_REPLY__INIT;
    out.settings = &ps;
    meso_reply_ok (c->reply, &out.base);
    return 0;
}

void
screening_set_clinic_settings (const Meso__V1__Request *req, void *body, meso_reply_t *reply,
                               void *arg)
{
    s_settings_t st = { NULL, { 0, 0, 0 } };
    screening_call_t call = { arg, req, body, reply, &st, NULL, NULL, "" };
    Meso__V1__SetClinicSettingsRequest *rq = body;
    rules_reasons_t bad = { .n = 0 };
    Meso__V1__ClinicSettings *in = rq->settings;
    if (!in || !in->clinic_id || !*in->clinic_id)
        rules_reason_add (&bad, true, "missing_field", "settings.clinic_id",
                          "settings.clinic_id is required (at most 64 characters).");
    else {
        screening_need_clinic (&bad, "settings.clinic_id", in->clinic_id, true);
        st.clinic_id = in->clinic_id;
        call.clinic_id = in->clinic_id;
        call.clinic_field = "settings.clinic_id";
        rules_settings_from (in->max_age, in->bmi_obesity_x10, in->validity_days, &st.settings);
        const char *field;
        if (rules_settings_valid (&st.settings, &field) != 0) {
            char f[48];
            snprintf (f, sizeof f, "settings.%s", field);
            rules_reason_add (&bad, true, "out_of_range", f,
                              "%s is out of range (max_age 18..120, bmi_obesity_x10 150..600, "
                              "validity_days 1..3650).", f);
        }
    }
    screening_run (&call, &bad, s_settings_txn, "cannot store the clinic settings");
}
