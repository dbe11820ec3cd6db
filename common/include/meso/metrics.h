/* metrics.h -- Prometheus metrics of a daemon, served over HTTP.
 *
 * One registry per process (a daemon is one process): the bus server, the
 * db helper and the consumers record into it without a handle being passed
 * around, and meso_metrics_start serves it in Prometheus text exposition
 * format (version 0.0.4) on GET /metrics, from libmicrohttpd's own thread.
 * Everything here may be called from any thread; recording is a short
 * mutex-protected update, never I/O.
 *
 * What is recorded everywhere:
 *   meso_requests_total{method,code}              counter (bus server)
 *   meso_request_duration_seconds{method}         histogram (bus server)
 *   meso_db_retries_total                         counter (meso_db_txn retries)
 *   meso_build_info{service,version}              gauge, always 1
 *   meso_process_start_time_seconds               gauge
 *   meso_bus_accept_failed_total                  counter (bus_monitor.c)
 *   meso_process_open_fds, meso_process_max_fds   gauges (bus_monitor.c)
 * and by a service: meso_metrics_set / meso_metrics_add (gauges and
 * counters with at most one label, e.g. meso_consumer_cursor{stream}). */
#ifndef MESO_METRICS_H
#define MESO_METRICS_H

#include <stdint.h>

/* Starts serving on bind, "host:port" (IPv4 address, "*" or "" for every
 * address; e.g. "127.0.0.1:9101", "0.0.0.0:9101"). service names the
 * daemon in meso_build_info. NULL or "" bind: metrics are recorded but not
 * served. Returns 0, or -1 (logged) when bind is malformed or cannot be
 * bound. Call once, before recording from other threads. */
int meso_metrics_start (const char *service, const char *bind);
/* Stops serving (idempotent). The registry keeps its values. */
void meso_metrics_stop (void);

/* One request answered: method (e.g. "scheduling.BookCourse"; "unknown"
 * for a method the server does not serve), status code (meso_status_t)
 * and how long it took. At most 128 distinct methods are kept; more are
 * counted under "other". */
void meso_metrics_request (const char *method, int status, int64_t duration_us);

/* One transaction retried after a serialization failure or deadlock. */
void meso_metrics_db_retry (void);

/* Sets a gauge / adds to a counter. name is a static string, a valid
 * metric name (a counter's ends in "_total"); help a static one-line text.
 * label and value: one label (both NULL for none; the value is copied, at
 * most 71 bytes). At most 1024 series in all; more are dropped. */
void meso_metrics_set (const char *name, const char *help, const char *label,
                       const char *value, double v);
void meso_metrics_add (const char *name, const char *help, const char *label,
                       const char *value, double delta);

/* The exposition text (malloc'd, NUL-terminated; NULL when out of
 * memory). What GET /metrics answers; tests read it directly too. */
char *meso_metrics_render (void);

#endif
