/* cmd_patients.c -- "mesoctl patient ...": the front desk registers a
 * patient with the screening daemon.
 *
 *     mesoctl patient register --given G --family F --birth YYYY-MM-DD --clinic C
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

static const mesoctl_sub_t s_subs[] = {
    { "register", "register a patient and print the new patient id",
      "--given G --family F --birth YYYY-MM-DD --clinic C [--sex female|male|other] [options]",
      "Registers a patient and prints the new patient id.",
      "--given Ana --family Lopez --birth 1990-05-04 --clinic par --sex female",
      s_register_opts, MESOCTL_JSON | MESOCTL_KEY, NULL, 0, s_register },
    { "search", "find a clinic's patients by name, birth date, phone or e-mail",
      "--clinic C [--name N] [--birth YYYY-MM-DD] [--phone P] [--email E] [options]",
      "Finds the patients of a clinic matching every criterion given: the start of words of\n"
      "the name (accents and case ignored), the birth date, the phone, the e-mail.",
      "--clinic mad --name \"ana l\"\n--clinic mad --phone \"600 111 222\" --json",
      mesoctl_patient_search_opts, MESOCTL_JSON, NULL, 0, mesoctl_patient_search },
    { "get", "patients' names, screening and consent state (service principals)",
      "--clinic C --ids ID,ID [--date YYYY-MM-DD] [options]",
      "Reads patients in one call, with their screening state on a date and their consent\n"
      "at the clinic: what the agenda shows (screening.GetPatients; service and operator keys).",
      "--clinic mad --ids 6f1c...e2,0b7a...91 --date 2027-10-31",
      mesoctl_patient_get_opts, MESOCTL_JSON, NULL, 0, mesoctl_patient_get },
    { NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, NULL }
};

int
mesoctl_patient (int argc, char **argv)
{
    return mesoctl_run (&s_service, s_subs, false, argc, argv);
}
