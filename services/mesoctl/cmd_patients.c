/* cmd_patients.c -- "mesoctl patient ...": the front desk registers a
 * patient with the screening daemon.
 *
 *     mesoctl patient register --given G --family F --birth YYYY-MM-DD --clinic C
 *     mesoctl patient export <id>      (cmd_export.c: the record across services)
 *     mesoctl patient erase <patient id> --reason "..."
 *
 * erase (operator role) destroys the patient's data key
 * (screening.ErasePatient): its personal and health fields become
 * unreadable everywhere, the records and totals stay.
 *     mesoctl patient update   --patient ID [--given G] [--family F] [--birth D] ...
 *
 * The patient is its own command and file, apart from cmd_screening.c,
 * because it is its own aggregate of the screening daemon (who the patient
 * is, not what they answered) and the front desk's task, not the
 * practitioner's; the two files share only the daemon's endpoint and the
 * way its replies are shown (the same service description). It prints a
 * readable line, or with --json the reply as JSON with every field of
 * proto/meso/v1/screening.proto; a refusal prints every reason, exit 1. */
#include <stdio.h>
#include <string.h>

#include "mesoctl.h"
#include "screening.pb-c.h"

static const mesoctl_service_t s_service = {
    .name = "patient",
    .daemon = "screening",
    .summary = "A patient's record at the screening daemon.",
    .endpoint = { "endpoint", "MESO_SCREENING_ENDPOINT", "tcp://127.0.0.1:7101", "screening daemon", NULL },
    .timeout_ms = 10000,
    .quirks = MESOCTL_Q_JSON_REFUSAL,
};

static int
s_register (meso_opt_t *opts)
{
    Meso__V1__Patient p = MESO__V1__PATIENT__INIT;
    p.given_name = (char *) mesoctl_opt (opts, "given");
    p.family_name = (char *) mesoctl_opt (opts, "family");
    p.birth_date = (char *) mesoctl_opt (opts, "birth");
    p.home_clinic_id = (char *) mesoctl_opt (opts, "clinic");
    p.phone = (char *) mesoctl_opt (opts, "phone");
    p.email = (char *) mesoctl_opt (opts, "email");
    const char *sex = mesoctl_opt (opts, "sex");
    p.sex = strcmp (sex, "female") == 0 ? MESO__V1__SEX__SEX_FEMALE
          : strcmp (sex, "male") == 0 ? MESO__V1__SEX__SEX_MALE
          : strcmp (sex, "other") == 0 ? MESO__V1__SEX__SEX_OTHER : MESO__V1__SEX__SEX_UNSPECIFIED;
    Meso__V1__RegisterPatientRequest rq = MESO__V1__REGISTER_PATIENT_REQUEST__INIT;
    rq.patient = &p;
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (&s_service, opts, "screening.RegisterPatient", &rq.base, true,
                           &meso__v1__register_patient_reply__descriptor, &out);
    if (rc != MESOCTL_OK)
        return rc;
    Meso__V1__RegisterPatientReply *rep = (Meso__V1__RegisterPatientReply *) out;
    if (!meso_config_bool (opts, "json"))
        printf ("patient %s registered: %s %s, born %s, home clinic %s\n", rep->patient->id,
                rep->patient->given_name, rep->patient->family_name, rep->patient->birth_date,
                rep->patient->home_clinic_id);
    protobuf_c_message_free_unpacked (out, NULL);
    return MESOCTL_OK;
}

static const meso_opt_t s_register_opts[] = {
    { "given", NULL, NULL, "given name (required)", NULL },
    { "family", NULL, NULL, "family name (required)", NULL },
    { "birth", NULL, NULL, "birth date YYYY-MM-DD (required)", NULL },
    { "clinic", NULL, NULL, "home clinic id (required)", NULL },
    { "sex", NULL, "", "female, male or other", NULL },
    { "phone", NULL, "", "contact phone", NULL },
    { "email", NULL, "", "contact e-mail", NULL },
    MESOCTL_OPT_END
};

static int
s_erase (meso_opt_t *opts)
{
    const char *id = mesoctl_arg (0);
    if (!id || !*id)
        id = mesoctl_opt (opts, "patient");
    if (!id || !*id) {
        fprintf (stderr, "mesoctl patient erase: name the patient: erase <patient id> --reason \"...\"\n");
        return MESOCTL_USAGE;
    }
    Meso__V1__ErasePatientRequest rq = MESO__V1__ERASE_PATIENT_REQUEST__INIT;
    rq.patient_id = (char *) id;
    rq.reason = (char *) mesoctl_opt (opts, "reason");
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (&s_service, opts, "screening.ErasePatient", &rq.base, true,
                           &meso__v1__erase_patient_reply__descriptor, &out);
    if (rc != MESOCTL_OK)
        return rc;
    Meso__V1__ErasePatientReply *rep = (Meso__V1__ErasePatientReply *) out;
    if (!meso_config_bool (opts, "json"))
        printf ("patient %s %serased (key destroyed at %lld us since the epoch; %u stored "
                "repl%s deleted)\n", rep->patient_id, rep->already_erased ? "was already " : "",
                (long long) rep->erased_at_us, rep->replies_deleted,
                rep->replies_deleted == 1 ? "y" : "ies");
    protobuf_c_message_free_unpacked (out, NULL);
    return MESOCTL_OK;
}

/* -------------------------------------------------------------- update */

static int
s_update (meso_opt_t *opts)
{
    Meso__V1__Patient p = MESO__V1__PATIENT__INIT;
    p.id = (char *) mesoctl_opt (opts, "patient");
    p.given_name = (char *) mesoctl_opt (opts, "given");
    p.family_name = (char *) mesoctl_opt (opts, "family");
    p.birth_date = (char *) mesoctl_opt (opts, "birth");
    p.home_clinic_id = (char *) mesoctl_opt (opts, "clinic");
    p.phone = (char *) mesoctl_opt (opts, "phone");
    p.email = (char *) mesoctl_opt (opts, "email");
    const char *sex = mesoctl_opt (opts, "sex");
    p.sex = strcmp (sex, "female") == 0 ? MESO__V1__SEX__SEX_FEMALE
          : strcmp (sex, "male") == 0 ? MESO__V1__SEX__SEX_MALE
          : strcmp (sex, "other") == 0 ? MESO__V1__SEX__SEX_OTHER : MESO__V1__SEX__SEX_UNSPECIFIED;
    if (*sex && p.sex == MESO__V1__SEX__SEX_UNSPECIFIED) {
        fprintf (stderr, "mesoctl patient update: --sex must be female, male or other\n");
        return MESOCTL_USAGE;
    }
    Meso__V1__UpdatePatientRequest rq = MESO__V1__UPDATE_PATIENT_REQUEST__INIT;
    rq.patient = &p;
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (&s_service, opts, "screening.UpdatePatient", &rq.base, true,
                           &meso__v1__update_patient_reply__descriptor, &out);
    if (rc != MESOCTL_OK)
        return rc;
    Meso__V1__UpdatePatientReply *rep = (Meso__V1__UpdatePatientReply *) out;
    if (!meso_config_bool (opts, "json")) {
        printf ("patient %s: %s %s, born %s, home clinic %s\n", rep->patient->id,
                rep->patient->given_name, rep->patient->family_name, rep->patient->birth_date,
                rep->patient->home_clinic_id);
        printf ("changed:");
        for (size_t i = 0; i < rep->n_changed; i++)
            printf (" %s", rep->changed[i]);
        printf ("%s\n", rep->n_changed ? "" : " nothing");
    }
    protobuf_c_message_free_unpacked (out, NULL);
    return MESOCTL_OK;
}

static const meso_opt_t s_erase_opts[] = {
    { "reason", NULL, "", "why the patient is erased, e.g. the request's reference (required)", NULL },
    { "patient", NULL, "", "the patient id, when not given as the argument", NULL },
    MESOCTL_OPT_END
};

static const meso_opt_t s_update_opts[] = {
    { "patient", NULL, NULL, "patient id (required)", NULL },
    { "given", NULL, "", "new given name", NULL },
    { "family", NULL, "", "new family name", NULL },
    { "birth", NULL, "", "new birth date YYYY-MM-DD", NULL },
    { "clinic", NULL, "", "new home clinic id", NULL },
    { "sex", NULL, "", "female, male or other", NULL },
    { "phone", NULL, "", "new contact phone", NULL },
    { "email", NULL, "", "new contact e-mail", NULL },
    MESOCTL_OPT_END
};

static const mesoctl_sub_t s_subs[] = {
    { "register", "register a patient and print the new patient id",
      "--given G --family F --birth YYYY-MM-DD --clinic C [--sex female|male|other] [options]",
      "Registers a patient and prints the new patient id.",
      "--given Ana --family Lopez --birth 1990-05-04 --clinic par --sex female",
      s_register_opts, MESOCTL_JSON | MESOCTL_KEY, NULL, 0, s_register, "screening.RegisterPatient" },
    { "update", "change a patient's personal data",
      "--patient ID [--given G] [--family F] [--birth YYYY-MM-DD] [--clinic C] [--sex S] [--phone P] [--email E] [options]",
      "Changes the fields given of a patient's record (the others keep their value) and\n"
      "prints the record and the fields that changed.",
      "--patient 6f1c...e2 --phone \"+33 6 12 34 56 78\" --email ana@example.org",
      s_update_opts, MESOCTL_JSON | MESOCTL_KEY, NULL, 0, s_update, "screening.UpdatePatient" },
    { "export", "print the patient's whole record across the services as one JSON document",
      "<patient-id> [--out FILE] [options]",
      "Asks screening, scheduling, inventory and billing for everything they hold about the\n"
      "patient (<service>.ExportPatient; roles operator or clinic manager of every clinic\n"
      "holding a record) and prints one JSON document: a header (patient, when, by whom,\n"
      "which services answered), a section per service and the audit entries. Exit 1 when\n"
      "a service did not answer (its section is null).",
      "6f1c0a7e-2b1d-4c3e-9f00-0a1b2c3d4e5f --out ana-lopez.json",
      mesoctl_patient_export_opts, 0, NULL, 1, mesoctl_patient_export,
      "screening.ExportPatient,scheduling.ExportPatient,inventory.ExportPatient,billing.ExportPatient" },
    { "erase", "erase a patient: destroy its data key (operator)",
      "<patient id> --reason \"...\" [--key K] [--json]",
      "Erases a patient (screening.ErasePatient, operator role): its data key is destroyed, so "
      "its personal and health fields read as \"[erased]\" everywhere, while every record, "
      "balance and stock total stays. Refused while the patient has sessions booked (cancel "
      "them first). Emits screening.patient_erased; integrations must delete what they hold.",
      "0b7e8c4e-94c5-4a53-8a32-fb1c3c2b8f1e --reason \"GDPR request 2026-114\"",
      s_erase_opts, MESOCTL_JSON | MESOCTL_KEY, NULL, 1, s_erase, "screening.ErasePatient" },
    { "search", "find a clinic's patients by name, birth date, phone or e-mail",
      "--clinic C [--name N] [--birth YYYY-MM-DD] [--phone P] [--email E] [options]",
      "Finds the patients of a clinic matching every criterion given: the start of words of\n"
      "the name (accents and case ignored), the birth date, the phone, the e-mail.",
      "--clinic mad --name \"ana l\"\n--clinic mad --phone \"600 111 222\" --json",
      mesoctl_patient_search_opts, MESOCTL_JSON, NULL, 0, mesoctl_patient_search, "screening.SearchPatients" },
    { "get", "patients' names, screening and consent state (service principals)",
      "--clinic C --ids ID,ID [--date YYYY-MM-DD] [options]",
      "Reads patients in one call, with their screening state on a date and their consent\n"
      "at the clinic: what the agenda shows (screening.GetPatients; service and operator keys).",
      "--clinic mad --ids 6f1c...e2,0b7a...91 --date 2027-10-31",
      mesoctl_patient_get_opts, MESOCTL_JSON, NULL, 0, mesoctl_patient_get, "screening.GetPatients" },
    { NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, NULL }
};

int
mesoctl_patient (int argc, char **argv)
{
    return mesoctl_run (&s_service, s_subs, false, argc, argv);
}
