/* bus_arena.c -- the bus server's request arena: a protobuf-c allocator
 * over one buffer, emptied after each request (bump allocation).
 *
 * Why it exists: protobuf-c makes half a dozen allocations per request (the
 * message, its strings, the actor, the body), and their malloc/free were
 * some 7% of the server's instructions per request (callgrind). What does
 * not fit (large bodies) falls back to malloc, and the arena's free frees
 * exactly those, so free_unpacked stays correct. */
#include <stdlib.h>

#include "bus_private.h"

static void *
s_alloc (void *data, size_t size)
{
    meso_bus_arena_t *arena = data;
    /* 16-byte alignment, like malloc's; size 0 still gets its own slot. */
    size_t need = size > 0 ? (size + 15) & ~(size_t) 15 : 16;
    if (arena->buf && need >= size && MESO_BUS_ARENA_SIZE - arena->used >= need) {
        void *p = arena->buf + arena->used;
        arena->used += need;
        return p;
    }
    return malloc (size);
}

static void
s_free (void *data, void *ptr)
{
    meso_bus_arena_t *arena = data;
    uintptr_t p = (uintptr_t) ptr;
    uintptr_t start = (uintptr_t) arena->buf;
    if (arena->buf && p >= start && p < start + MESO_BUS_ARENA_SIZE)
        return;         /* given back all at once (used = 0) */
    free (ptr);
}

void
meso_bus_arena_init (meso_bus_arena_t *arena)
{
    arena->buf = malloc (MESO_BUS_ARENA_SIZE);
    arena->used = 0;
    arena->base.alloc = s_alloc;
    arena->base.free = s_free;
    arena->base.allocator_data = arena;
}
