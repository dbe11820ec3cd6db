/* bench_bus.h -- what bench_bus.c and bench_bus_memory.c share. */
#ifndef BENCH_BUS_H
#define BENCH_BUS_H

#include <stddef.h>
#include <stdint.h>

/* A free tcp port on loopback (bench_bus.c). */
int bench_free_port (void);

/* meso-demo's memory idle and after a load of Echo requests carrying
 * body (bench_bus_memory.c). */
void bench_bus_memory (const uint8_t *body, size_t len);

#endif
