/* bench_scale_run.h -- the requests bench_scale times on one database. */
#ifndef BENCH_SCALE_RUN_H
#define BENCH_SCALE_RUN_H

typedef struct {
    double p50, p99;            /* ms; events/s for the relay */
    int failed;
} scale_fig_t;

typedef struct {
    scale_fig_t plan, book, agenda, statement, replay, relay;
} scale_figs_t;

/* Starts the five daemons on database dbname (admin: its superuser
 * conninfo), sets up what the requests need (a recipe, stock, 48
 * patients), times n of each request and the relay, stops the daemons.
 * 0, or -1 (and prints why). */
int scale_measure (const char *dbname, const char *admin, int n, scale_figs_t *out);

#endif
