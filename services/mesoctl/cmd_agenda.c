/* cmd_agenda.c -- the front desk's reads: "mesoctl agenda" (a clinic's
 * day as a timetable), "mesoctl patient search|get" and "mesoctl
 * scheduling clinics|practitioners|rooms" (the lookups).
 *
 *     mesoctl agenda --clinic C --date YYYY-MM-DD [--to YYYY-MM-DD]
 *                    [--practitioner P | --room R] [--by room|practitioner] [--json]
 *
 * The agenda follows next_page_token until the range is read, then
 * prints it with timetable.c (rows = local times, columns = rooms or
 * practitioners); with --json it prints each page's reply as one JSON
 * line instead. The lists print one line per row and, when there is
 * more, the token to ask for the next page with. The subcommands of
 * "patient" and "scheduling" are listed in those commands' tables
 * (cmd_patients.c, cmd_scheduling.c); their functions live here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesoctl.h"
#include "timetable.h"
#include "meso/mtime.h"
#include "billing.pb-c.h"
#include "scheduling.pb-c.h"
#include "screening.pb-c.h"

/* As cmd_scheduling.c and cmd_patients.c reach their daemons. */
static const mesoctl_service_t s_scheduling = {
    .name = "scheduling",
    .summary = "",
    .endpoint = { "endpoint", "MESO_SCHEDULING_ENDPOINT", "tcp://127.0.0.1:7102", "scheduling daemon endpoint", NULL },
    .timeout_ms = 30000,
    .quirks = MESOCTL_Q_SILENT_CLIENT | MESOCTL_Q_SILENT_DECODE | MESOCTL_Q_PBJSON,
};

static const mesoctl_service_t s_screening = {
    .name = "patient",
    .daemon = "screening",
    .summary = "",
    .endpoint = { "endpoint", "MESO_SCREENING_ENDPOINT", "tcp://127.0.0.1:7101", "screening daemon", NULL },
    .timeout_ms = 10000,
    .quirks = MESOCTL_Q_JSON_REFUSAL,
};

static uint32_t
s_page_size (const meso_opt_t *opts)
{
    const char *v = mesoctl_opt (opts, "page-size");
    return *v ? (uint32_t) strtoul (v, NULL, 10) : 0;
}

static void
s_more (const char *token)
{
    if (token && *token)
        printf ("more: --page-token %s\n", token);
}

/* ------------------------------------------------------------ agenda */

int
mesoctl_agenda (int argc, char **argv)
{
    meso_opt_t opts[] = {
        { "clinic", NULL, NULL, "clinic id (required)", NULL },
        { "date", NULL, NULL, "local day YYYY-MM-DD (required)", NULL },
        { "to", NULL, "", "last local day of a range, included (at most 31 days)", NULL },
        { "practitioner", NULL, "", "only this practitioner's sessions", NULL },
        { "room", NULL, "", "only this room's sessions", NULL },
        { "by", NULL, "room", "columns: room or practitioner", NULL },
        { "include-cancelled", NULL, "false", "show cancelled and no-show sessions too", NULL },
        { "page-size", NULL, "", "sessions per request (default 100, at most 500)", NULL },
        { "json", NULL, "false", "print each page's reply as one JSON line", NULL },
        { "endpoint", "MESO_SCHEDULING_ENDPOINT", "tcp://127.0.0.1:7102", "scheduling daemon endpoint", NULL },
        { NULL, NULL, NULL, NULL, NULL }
    };
    int rc = mesoctl_parsed (meso_config_parse (opts, argc, argv, "mesoctl agenda",
        "Prints a clinic's sessions of a local day (or range) as a timetable: one row per\n"
        "local start time (with its UTC offset), one column per room (--by practitioner:\n"
        "per practitioner), the patient's name and areas in each cell, and marks where a\n"
        "session needs attention ([stock at risk], [screening expired], [no consent],\n"
        "[cancelled]...).\n"
        "Calls: scheduling.GetAgenda\n"
        "Example: mesoctl agenda --clinic mad --date 2027-10-31\n"
        "         mesoctl agenda --clinic mad --date 2027-10-31 --by practitioner --room r1 --json",
        NULL, NULL));
    if (rc >= 0)
        return rc;
    const char *by = mesoctl_opt (opts, "by");
    if (!*mesoctl_opt (opts, "clinic") || !*mesoctl_opt (opts, "date")
        || (strcmp (by, "room") != 0 && strcmp (by, "practitioner") != 0)) {
        fprintf (stderr, "mesoctl agenda: --clinic and --date are required; --by is room or practitioner\n");
        return MESOCTL_USAGE;
    }
    bool json = meso_config_bool (opts, "json");
    Meso__V1__GetAgendaRequest rq = MESO__V1__GET_AGENDA_REQUEST__INIT;
    rq.clinic_id = (char *) mesoctl_opt (opts, "clinic");
    rq.date = (char *) mesoctl_opt (opts, "date");
    rq.to_date = (char *) mesoctl_opt (opts, "to");
    rq.practitioner_id = (char *) mesoctl_opt (opts, "practitioner");
    rq.room_id = (char *) mesoctl_opt (opts, "room");
    rq.include_cancelled = meso_config_bool (opts, "include-cancelled");
    rq.page_size = s_page_size (opts);
    /* Every page is kept until the range is read: the timetable needs
     * every room's column before its first row. */
    Meso__V1__GetAgendaReply **pages = NULL;
    Meso__V1__AgendaEntry **all = NULL;
    size_t npages = 0, n = 0;
    char token[600] = "";
    rc = MESOCTL_OK;
    do {
        rq.page_token = token;
        ProtobufCMessage *out = NULL;
        rc = mesoctl_call (&s_scheduling, opts, "scheduling.GetAgenda", &rq.base, false,
                           &meso__v1__get_agenda_reply__descriptor, &out);
        if (rc != MESOCTL_OK)
            break;
        Meso__V1__GetAgendaReply *rep = (Meso__V1__GetAgendaReply *) out;
        Meso__V1__GetAgendaReply **p = realloc (pages, (npages + 1) * sizeof *pages);
        Meso__V1__AgendaEntry **a = realloc (all, (n + rep->n_entries + 1) * sizeof *all);
        if (p)
            pages = p;
        if (a)
            all = a;
        if (!p || !a) {
            protobuf_c_message_free_unpacked (out, NULL);
            fprintf (stderr, "mesoctl agenda: out of memory\n");
            rc = MESOCTL_FAILED;
            break;
        }
        pages[npages++] = rep;
        for (size_t i = 0; i < rep->n_entries; i++)
            all[n++] = rep->entries[i];
        snprintf (token, sizeof token, "%s", rep->next_page_token ? rep->next_page_token : "");
    } while (token[0]);
    if (rc == MESOCTL_OK && !json && npages > 0) {
        timetable_print (stdout, pages[0]->clinic_id, pages[0]->time_zone, all, n,
                         strcmp (by, "practitioner") == 0);
        for (size_t p = 0; p < npages; p++)
            for (size_t w = 0; w < pages[p]->n_warnings; w++)
                printf ("warning: %s\n", pages[p]->warnings[w]);
    }
    for (size_t p = 0; p < npages; p++)
        protobuf_c_message_free_unpacked (&pages[p]->base, NULL);
    free (pages);
    free (all);
    return rc;
}

/* ----------------------------------------------------- patient search */

int
mesoctl_patient_search (meso_opt_t *opts)
{
    Meso__V1__SearchPatientsRequest rq = MESO__V1__SEARCH_PATIENTS_REQUEST__INIT;
    rq.clinic_id = (char *) mesoctl_opt (opts, "clinic");
    rq.name = (char *) mesoctl_opt (opts, "name");
    rq.birth_date = (char *) mesoctl_opt (opts, "birth");
    rq.phone = (char *) mesoctl_opt (opts, "phone");
    rq.email = (char *) mesoctl_opt (opts, "email");
    rq.page_size = s_page_size (opts);
    rq.page_token = (char *) mesoctl_opt (opts, "page-token");
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (&s_screening, opts, "screening.SearchPatients", &rq.base, false,
                           &meso__v1__search_patients_reply__descriptor, &out);
    if (rc != MESOCTL_OK)
        return rc;
    Meso__V1__SearchPatientsReply *rep = (Meso__V1__SearchPatientsReply *) out;
    if (!meso_config_bool (opts, "json")) {
        if (rep->n_patients == 0)
            printf ("no patient found\n");
        for (size_t i = 0; i < rep->n_patients; i++) {
            const Meso__V1__Patient *p = rep->patients[i];
            printf ("%s  %s %s  born %s  %s  %s\n", p->id, p->given_name, p->family_name, p->birth_date,
                    *p->phone ? p->phone : "-", *p->email ? p->email : "-");
        }
        s_more (rep->next_page_token);
    }
    protobuf_c_message_free_unpacked (out, NULL);
    return MESOCTL_OK;
}

int
mesoctl_patient_get (meso_opt_t *opts)
{
    char ids_text[4096];
    snprintf (ids_text, sizeof ids_text, "%s", mesoctl_opt (opts, "ids"));
    char *ids[500];
    Meso__V1__GetPatientsRequest rq = MESO__V1__GET_PATIENTS_REQUEST__INIT;
    rq.clinic_id = (char *) mesoctl_opt (opts, "clinic");
    rq.n_patient_ids = mesoctl_split (ids_text, ",", true, ids, 500);
    rq.patient_ids = ids;
    rq.date = (char *) mesoctl_opt (opts, "date");
    rq.treatment = (char *) mesoctl_opt (opts, "treatment");
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (&s_screening, opts, "screening.GetPatients", &rq.base, false,
                           &meso__v1__get_patients_reply__descriptor, &out);
    if (rc != MESOCTL_OK)
        return rc;
    Meso__V1__GetPatientsReply *rep = (Meso__V1__GetPatientsReply *) out;
    if (!meso_config_bool (opts, "json"))
        for (size_t i = 0; i < rep->n_patients; i++) {
            const Meso__V1__PatientSummary *s = rep->patients[i];
            if (!s->found)
                printf ("%s  not found\n", s->patient_id);
            else
                printf ("%s  %s %s  screening %s%s%s  consent %s\n", s->patient_id, s->given_name,
                        s->family_name, meso_enum_str (&meso__v1__screening_state__descriptor, (int) s->screening_state),
                        *s->screening_valid_until ? " until " : "", s->screening_valid_until,
                        meso_enum_str (&meso__v1__consent_state__descriptor, (int) s->consent_state));
        }
    protobuf_c_message_free_unpacked (out, NULL);
    return MESOCTL_OK;
}

/* -------------------------------------------------- scheduling lookups */

static void
s_hours (Meso__V1__DayHours **h, size_t n)
{
    static const char *const days[] = { "", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
    for (size_t i = 0; i < n; i++)
        printf ("%s%s %s-%s", i ? ", " : "", h[i]->weekday >= 1 && h[i]->weekday <= 7 ? days[h[i]->weekday] : "?",
                h[i]->opens, h[i]->closes);
}

int
mesoctl_scheduling_clinics (meso_opt_t *opts)
{
    Meso__V1__ListClinicsRequest rq = MESO__V1__LIST_CLINICS_REQUEST__INIT;
    rq.page_size = s_page_size (opts);
    rq.page_token = (char *) mesoctl_opt (opts, "page-token");
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (&s_scheduling, opts, "scheduling.ListClinics", &rq.base, false,
                           &meso__v1__list_clinics_reply__descriptor, &out);
    if (rc != MESOCTL_OK)
        return rc;
    Meso__V1__ListClinicsReply *rep = (Meso__V1__ListClinicsReply *) out;
    if (!meso_config_bool (opts, "json")) {
        for (size_t i = 0; i < rep->n_clinics; i++) {
            const Meso__V1__Clinic *c = rep->clinics[i];
            printf ("%-12s %-24s %-20s %u min  ", c->clinic_id, c->name, c->time_zone, c->slot_minutes);
            s_hours (c->hours, c->n_hours);
            printf ("\n");
        }
        s_more (rep->next_page_token);
    }
    protobuf_c_message_free_unpacked (out, NULL);
    return MESOCTL_OK;
}

int
mesoctl_scheduling_practitioners (meso_opt_t *opts)
{
    Meso__V1__ListPractitionersRequest rq = MESO__V1__LIST_PRACTITIONERS_REQUEST__INIT;
    rq.clinic_id = (char *) mesoctl_opt (opts, "clinic");
    rq.days_off_from = (char *) mesoctl_opt (opts, "days-off-from");
    rq.page_size = s_page_size (opts);
    rq.page_token = (char *) mesoctl_opt (opts, "page-token");
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (&s_scheduling, opts, "scheduling.ListPractitioners", &rq.base, false,
                           &meso__v1__list_practitioners_reply__descriptor, &out);
    if (rc != MESOCTL_OK)
        return rc;
    Meso__V1__ListPractitionersReply *rep = (Meso__V1__ListPractitionersReply *) out;
    if (!meso_config_bool (opts, "json")) {
        for (size_t i = 0; i < rep->n_practitioners; i++) {
            const Meso__V1__Practitioner *p = rep->practitioners[i];
            printf ("%s  %s\n", p->practitioner_id, p->name);
            for (size_t c = 0; c < p->n_clinics; c++) {
                printf ("  at %s: ", p->clinics[c]->clinic_id);
                s_hours (p->clinics[c]->hours, p->clinics[c]->n_hours);
                printf ("\n");
            }
            if (p->n_days_off) {
                printf ("  days off:");
                for (size_t d = 0; d < p->n_days_off; d++)
                    printf (" %s", p->days_off[d]);
                printf ("\n");
            }
        }
        s_more (rep->next_page_token);
    }
    protobuf_c_message_free_unpacked (out, NULL);
    return MESOCTL_OK;
}

int
mesoctl_scheduling_rooms (meso_opt_t *opts)
{
    Meso__V1__ListRoomsRequest rq = MESO__V1__LIST_ROOMS_REQUEST__INIT;
    rq.clinic_id = (char *) mesoctl_opt (opts, "clinic");
    rq.page_size = s_page_size (opts);
    rq.page_token = (char *) mesoctl_opt (opts, "page-token");
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (&s_scheduling, opts, "scheduling.ListRooms", &rq.base, false,
                           &meso__v1__list_rooms_reply__descriptor, &out);
    if (rc != MESOCTL_OK)
        return rc;
    Meso__V1__ListRoomsReply *rep = (Meso__V1__ListRoomsReply *) out;
    if (!meso_config_bool (opts, "json")) {
        for (size_t i = 0; i < rep->n_rooms; i++)
            printf ("%-12s %-24s %s\n", rep->rooms[i]->room_id, rep->rooms[i]->name,
                    rep->rooms[i]->active ? "active" : "inactive");
        s_more (rep->next_page_token);
    }
    protobuf_c_message_free_unpacked (out, NULL);
    return MESOCTL_OK;
}

int
mesoctl_scheduling_courses (meso_opt_t *opts)
{
    Meso__V1__ListCoursesRequest rq = MESO__V1__LIST_COURSES_REQUEST__INIT;
    rq.patient_id = (char *) mesoctl_opt (opts, "patient");
    rq.page_size = s_page_size (opts);
    rq.page_token = (char *) mesoctl_opt (opts, "page-token");
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (&s_scheduling, opts, "scheduling.ListCourses", &rq.base, false,
                           &meso__v1__list_courses_reply__descriptor, &out);
    if (rc != MESOCTL_OK)
        return rc;
    Meso__V1__ListCoursesReply *rep = (Meso__V1__ListCoursesReply *) out;
    if (!meso_config_bool (opts, "json")) {
        if (rep->n_courses == 0)
            printf ("no course\n");
        for (size_t i = 0; i < rep->n_courses; i++) {
            const Meso__V1__CourseSummary *c = rep->courses[i];
            printf ("%s  %s  grade %d  %s..%s  %u/%u done, %u to come  next %s%s\n", c->course_id, c->clinic_id,
                    c->grade, c->first_date, c->last_date, c->completed, c->sessions, c->upcoming,
                    *c->next_local_start ? c->next_local_start : "-", c->non_responder ? "  non-responder" : "");
        }
        s_more (rep->next_page_token);
    }
    protobuf_c_message_free_unpacked (out, NULL);
    return MESOCTL_OK;
}

/* ---------------------------------------------------- billing lookups */

static void
s_invoice_line (const Meso__V1__Invoice *v)
{
    char issued[40];
    meso_time_format_utc (v->issued_at_us, issued, sizeof issued);
    printf ("%s  %s  issued %.16s UTC  %lld.%02lld %s  paid %lld.%02lld  due %lld.%02lld  patient %s\n",
            v->invoice_id, meso_enum_str (&meso__v1__invoice_kind__descriptor, (int) v->kind), issued, (long long) (v->total_cents / 100),
            (long long) (v->total_cents % 100), v->currency, (long long) (v->paid_cents / 100),
            (long long) (v->paid_cents % 100), (long long) (v->due_cents / 100), (long long) (v->due_cents % 100),
            v->patient_id);
}

int
mesoctl_billing_invoice_show (meso_opt_t *opts)
{
    Meso__V1__GetInvoiceRequest rq = MESO__V1__GET_INVOICE_REQUEST__INIT;
    rq.clinic_id = (char *) mesoctl_opt (opts, "clinic");
    rq.invoice_id = (char *) mesoctl_opt (opts, "invoice");
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (&mesoctl_billing_service, opts, "billing.GetInvoice", &rq.base, false,
                           &meso__v1__get_invoice_reply__descriptor, &out);
    if (rc != MESOCTL_OK)
        return rc;
    Meso__V1__GetInvoiceReply *rep = (Meso__V1__GetInvoiceReply *) out;
    if (!meso_config_bool (opts, "json")) {
        s_invoice_line (rep->invoice);
        for (size_t i = 0; i < rep->invoice->n_lines; i++) {
            const Meso__V1__InvoiceLine *l = rep->invoice->lines[i];
            printf ("  %-40s %lld.%02lld (tax %lld.%02lld)\n", l->description, (long long) (l->amount_cents / 100),
                    (long long) (l->amount_cents % 100), (long long) (l->tax_cents / 100),
                    (long long) (l->tax_cents % 100));
        }
    }
    protobuf_c_message_free_unpacked (out, NULL);
    return MESOCTL_OK;
}

int
mesoctl_billing_invoices (meso_opt_t *opts)
{
    Meso__V1__ListInvoicesRequest rq = MESO__V1__LIST_INVOICES_REQUEST__INIT;
    rq.clinic_id = (char *) mesoctl_opt (opts, "clinic");
    rq.patient_id = (char *) mesoctl_opt (opts, "patient");
    rq.from_date = (char *) mesoctl_opt (opts, "from");
    rq.to_date = (char *) mesoctl_opt (opts, "to");
    rq.state = (char *) mesoctl_opt (opts, "state");
    rq.page_size = s_page_size (opts);
    rq.page_token = (char *) mesoctl_opt (opts, "page-token");
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (&mesoctl_billing_service, opts, "billing.ListInvoices", &rq.base, false,
                           &meso__v1__list_invoices_reply__descriptor, &out);
    if (rc != MESOCTL_OK)
        return rc;
    Meso__V1__ListInvoicesReply *rep = (Meso__V1__ListInvoicesReply *) out;
    if (!meso_config_bool (opts, "json")) {
        if (rep->n_invoices == 0)
            printf ("no invoice\n");
        for (size_t i = 0; i < rep->n_invoices; i++)
            s_invoice_line (rep->invoices[i]);
        s_more (rep->next_page_token);
    }
    protobuf_c_message_free_unpacked (out, NULL);
    return MESOCTL_OK;
}

int
mesoctl_billing_payment_show (meso_opt_t *opts)
{
    Meso__V1__GetPaymentRequest rq = MESO__V1__GET_PAYMENT_REQUEST__INIT;
    rq.clinic_id = (char *) mesoctl_opt (opts, "clinic");
    rq.payment_id = (char *) mesoctl_opt (opts, "payment");
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (&mesoctl_billing_service, opts, "billing.GetPayment", &rq.base, false,
                           &meso__v1__get_payment_reply__descriptor, &out);
    if (rc != MESOCTL_OK)
        return rc;
    Meso__V1__GetPaymentReply *rep = (Meso__V1__GetPaymentReply *) out;
    if (!meso_config_bool (opts, "json")) {
        const Meso__V1__Payment *p = rep->payment;
        printf ("%s  %lld.%02lld %s by %s  invoice %s  refunded %lld.%02lld  patient %s\n", p->payment_id,
                (long long) (p->amount_cents / 100), (long long) (p->amount_cents % 100), p->currency,
                meso_enum_str (&meso__v1__payment_method__descriptor, (int) p->method),
                *p->invoice_id ? p->invoice_id : "(deposit)", (long long) (p->refunded_cents / 100),
                (long long) (p->refunded_cents % 100), p->patient_id);
    }
    protobuf_c_message_free_unpacked (out, NULL);
    return MESOCTL_OK;
}

/* ----------------------------------------- option tables of the lists */

const meso_opt_t mesoctl_patient_search_opts[] = {
    { "clinic", NULL, NULL, "clinic searched (required): the patients' home clinic", NULL },
    { "name", NULL, "", "start of one or more words of the name, accents and case ignored", NULL },
    { "birth", NULL, "", "birth date YYYY-MM-DD", NULL },
    { "phone", NULL, "", "phone (its digits; the last 9 match a number with a country prefix)", NULL },
    { "email", NULL, "", "e-mail, case ignored", NULL },
    { "page-size", NULL, "", "patients per page (default 50, at most 200)", NULL },
    { "page-token", NULL, "", "the token a previous page printed after \"more:\"", NULL },
    MESOCTL_OPT_END
};

const meso_opt_t mesoctl_patient_get_opts[] = {
    { "clinic", NULL, NULL, "clinic whose consent is looked at (required)", NULL },
    { "ids", NULL, NULL, "patient ids, comma-separated (required, at most 500)", NULL },
    { "date", NULL, "", "day the screening's validity is judged on (default today)", NULL },
    { "treatment", NULL, "", "treatment of the consent (default body_mesotherapy)", NULL },
    MESOCTL_OPT_END
};

const meso_opt_t mesoctl_scheduling_clinics_opts[] = {
    { "page-size", NULL, "", "clinics per page (default 100, at most 500)", NULL },
    { "page-token", NULL, "", "the token a previous page printed after \"more:\"", NULL },
    MESOCTL_OPT_END
};

const meso_opt_t mesoctl_scheduling_practitioners_opts[] = {
    { "clinic", NULL, NULL, "clinic id (required)", NULL },
    { "days-off-from", NULL, "", "leave out days off before YYYY-MM-DD", NULL },
    { "page-size", NULL, "", "practitioners per page (default 100, at most 500)", NULL },
    { "page-token", NULL, "", "the token a previous page printed after \"more:\"", NULL },
    MESOCTL_OPT_END
};

const meso_opt_t mesoctl_scheduling_rooms_opts[] = {
    { "clinic", NULL, NULL, "clinic id (required)", NULL },
    { "page-size", NULL, "", "rooms per page (default 100, at most 500)", NULL },
    { "page-token", NULL, "", "the token a previous page printed after \"more:\"", NULL },
    MESOCTL_OPT_END
};

const meso_opt_t mesoctl_scheduling_courses_opts[] = {
    { "patient", NULL, NULL, "patient id (required)", NULL },
    { "page-size", NULL, "", "courses per page (default 50, at most 200)", NULL },
    { "page-token", NULL, "", "the token a previous page printed after \"more:\"", NULL },
    MESOCTL_OPT_END
};

const meso_opt_t mesoctl_billing_invoice_show_opts[] = {
    { "clinic", NULL, NULL, "clinic id (required)", NULL },
    { "invoice", NULL, NULL, "invoice id (required)", NULL },
    MESOCTL_OPT_END
};

const meso_opt_t mesoctl_billing_invoices_opts[] = {
    { "clinic", NULL, NULL, "clinic id (required)", NULL },
    { "patient", NULL, "", "only this patient's invoices", NULL },
    { "from", NULL, "", "issued on or after this local date YYYY-MM-DD", NULL },
    { "to", NULL, "", "issued on or before this local date YYYY-MM-DD", NULL },
    { "state", NULL, "", "open (something due) or paid (nothing due); default every invoice", NULL },
    { "page-size", NULL, "", "invoices per page (default 50, at most 500)", NULL },
    { "page-token", NULL, "", "the token a previous page printed after \"more:\"", NULL },
    MESOCTL_OPT_END
};

const meso_opt_t mesoctl_billing_payment_show_opts[] = {
    { "clinic", NULL, NULL, "clinic id (required)", NULL },
    { "payment", NULL, NULL, "payment id (required)", NULL },
    MESOCTL_OPT_END
};
