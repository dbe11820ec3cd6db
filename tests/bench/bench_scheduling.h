/* bench_scheduling.h -- what the files of bench_scheduling share (see the
 * top of bench_scheduling.c for what it measures):
 *   bench_sched_setup.c    the daemons (a fleet of instances) and the data
 *                          set up through them: clinics, stock, patients;
 *   bench_sched_pgbench.c  pgbench on a script (booking.pgbench,
 *                          essential.pgbench) and the essential schema;
 *   bench_sched_plan.c     PlanCourse in a busy clinic;
 *   bench_sched_compare.c  MESO_BENCH_ONLY=compare: two builds' PlanCourse
 *                          replies compared byte for byte;
 *   bench_scheduling.c     main, the booking clients, the table.
 * Calls go one way: the other files call setup, never the reverse. */
#ifndef BENCH_SCHEDULING_H
#define BENCH_SCHEDULING_H

#include <stdint.h>
#include <sys/types.h>

#include "meso/bus.h"
#include "meso/db.h"

#define NCLIENTS 8              /* MESO_BENCH_CLIENTS overrides (1..NCLIENTS) */
#define RUN_S 10                /* seconds per booking run */
#define MAXLAT 200000           /* latencies kept per client */
#define MAXINST 16              /* instances of one service */
#define MAXCONF 8               /* configurations in MESO_BENCH_INSTANCES */
#define EPLEN 128

/* The bench database's admin connection string, the daemons' log level
 * ("--log-level=warn" unless MESO_BENCH_LOG_LEVEL), and the setup
 * clients on the current fleet's endpoint lists. */
extern char bs_admin[512];
extern const char *bs_log_level;
extern meso_bus_client_t *bs_scr, *bs_inv, *bs_sch;

/* qsort comparator of int64_t. */
int bs_cmp_i64 (const void *a, const void *b);
/* The date offset days from today (UTC), "YYYY-MM-DD" in out (>= 11). */
void bs_day (int offset, char *out);
/* Calls method with a fresh key; on failure prints why. Returns the status. */
int bs_call (meso_bus_client_t *c, const char *method, const ProtobufCMessage *body, meso_result_t *r);

/* A clinic open every day (days 1..ndays) opens-closes, npract
 * practitioners "<id>-p<k>" and nrooms rooms "<id>-r<k>", its consent
 * text. 0 or -1. */
int bs_clinic (const char *id, const char *zone, const char *opens, const char *closes, int ndays, int npract,
               int nrooms);
/* A lot of caffeine (a million bookings' worth) in the clinic. */
int bs_stock (const char *clinic);
/* A registered, screened, consenting patient of the clinic; id (>= 40). */
int bs_patient (const char *clinic, char *id);
/* The ingredient (caffeine) and the recipe "bench" (thighs: 1 mg). */
int bs_catalogue (void);

/* One configuration's daemons: nsch scheduling instances, nscr screening
 * and ninv inventory, each on its own endpoint. */
typedef struct {
    int nsch, nscr, ninv;
    pid_t pid[3 * MAXINST];
    int npid;
    char sch[MAXINST][EPLEN];
    char sch_list[MAXINST * EPLEN], scr_list[MAXINST * EPLEN], inv_list[MAXINST * EPLEN];
} fleet_t;

/* Starts the instances and waits until every one answers Health. Returns
 * the fleet, or NULL (all stopped) if one did not start. */
fleet_t *bs_fleet_start (int nsch, int nscr, int ninv);
/* Stops every instance (scheduling first) and frees the fleet. */
void bs_fleet_stop (fleet_t **self_p);
/* Points the setup clients at the fleet's lists (NULL: closes them). */
void bs_setup_clients (const fleet_t *f);
/* The meso-scheduling of another build folder on the fleet's screening and
 * inventory; *pid its process. A client to it, or NULL. */
meso_bus_client_t *bs_other_start (const fleet_t *f, const char *other, pid_t *pid);

/* One pgbench run's figures. */
typedef struct {
    double tps;                 /* transactions/s, without connection time */
    int64_t p50, p99;           /* µs, from the per-transaction log */
    size_t n;                   /* transactions logged */
    long failed;
} bs_pgbench_t;

/* Runs pgbench -n -M prepared with clients clients for seconds s on
 * tests/bench/<script>. 0 ran, -1 did not (printed why). */
int bs_pgbench (const char *script, int clients, int seconds, bs_pgbench_t *out);
/* Loads tests/bench/essential_schema.sql for clients clients. 0 or -1. */
int bs_essential_schema (int clients);
/* Prints what essential.pgbench left: appointments, holds (and how many
 * on the lot the FEFO pick must find), reserved = held, outbox rows. */
void bs_essential_report (meso_db_t *db);

/* PlanCourse in a busy clinic through the fleet (one of each). 0 or -1. */
int bs_plan (meso_db_t *db, const fleet_t *fleet);
/* The comparison of two builds' PlanCourse. 0 identical, 1 otherwise. */
int bs_compare (meso_db_t *db, const fleet_t *f, const char *other);

/* Scheduling's worker count as deployed (MESO_SCHEDULING_WORKERS, 4). */
int bs_sched_workers (void);

#endif
