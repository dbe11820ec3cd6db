/* answers.h -- a screening questionnaire as "mesoctl screening record"
 * reads it: from a flat JSON file, then from flags on top (answers.c). */
#ifndef MESOCTL_ANSWERS_H
#define MESOCTL_ANSWERS_H

#include "meso/config.h"
#include "screening.pb-c.h"

#define MESOCTL_MAX_ITEMS 64

/* The questionnaire q and the storage its lists and strings point into. */
typedef struct {
    Meso__V1__Questionnaire q;
    char *allergies[MESOCTL_MAX_ITEMS];
    char *meds[MESOCTL_MAX_ITEMS];
    Meso__V1__AreaGrade areas[MESOCTL_MAX_ITEMS];
    Meso__V1__AreaGrade *area_ptrs[MESOCTL_MAX_ITEMS];
    char *strings[4 * MESOCTL_MAX_ITEMS];   /* owned copies */
    size_t nstrings;
} mesoctl_answers_t;

/* An empty questionnaire (every answer unanswered), or NULL. */
mesoctl_answers_t *mesoctl_answers_new (void);
void mesoctl_answers_destroy (mesoctl_answers_t **self_p);

/* Reads the answers file at path; returns 0, or -1 after saying why on
 * stderr. */
int mesoctl_answers_read_file (mesoctl_answers_t *self, const char *path);

/* Sets the answers the flags of "screening record" give (--no, --yes,
 * --areas...); returns 0, or -1 after saying why on stderr. */
int mesoctl_answers_from_flags (mesoctl_answers_t *self, const meso_opt_t *opts);

#endif
