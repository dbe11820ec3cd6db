/* test_seqwire.c -- the events daemon completes stored events and builds
 * replay replies by appending bytes; protobuf-c must read back exactly the
 * event with its sequences, and a reply of several events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/seqwire.h"
#include "events.pb-c.h"

static size_t
s_pack_event (uint8_t *buf, const char *id, int64_t available)
{
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    Meso__V1__StockLow low = MESO__V1__STOCK_LOW__INIT;
    low.ingredient_code = "caffeine";
    low.available_milli = available;
    ev.id = (char *) id;
    ev.type = "stock.low";
    ev.stream = "stock";
    ev.payload_case = MESO__V1__EVENT__PAYLOAD_STOCK_LOW;
    ev.stock_low = &low;
    return meso__v1__event__pack (&ev, buf);
}

static void
test_varint_encodings (void **state)
{
    uint8_t b[10];
    assert_int_equal (seqwire_varint (b, 0), 1);
    assert_int_equal (b[0], 0);
    assert_int_equal (seqwire_varint (b, 127), 1);
    assert_int_equal (seqwire_varint (b, 128), 2);
    assert_int_equal (b[0], 0x80);
    assert_int_equal (b[1], 0x01);
    assert_int_equal (seqwire_varint (b, UINT64_MAX), 10);
}

static void
test_completed_event_reads_back_with_sequences (void **state)
{
    uint8_t payload[256], out[256 + SEQWIRE_EVENT_OVERHEAD];
    size_t len = s_pack_event (payload, "ev-1", 1500);
    size_t n = seqwire_event (out, payload, len, 42, UINT64_MAX);
    Meso__V1__Event *ev = meso__v1__event__unpack (NULL, n, out);
    assert_non_null (ev);
    assert_string_equal (ev->id, "ev-1");
    assert_int_equal (ev->stream_seq, 42);
    assert_true (ev->global_seq == UINT64_MAX);
    assert_int_equal (ev->payload_case, MESO__V1__EVENT__PAYLOAD_STOCK_LOW);
    assert_int_equal (ev->stock_low->available_milli, 1500);
    meso__v1__event__free_unpacked (ev, NULL);
}

static void
test_replay_reply_of_several_events (void **state)
{
    uint8_t payload[256];
    uint8_t *out = malloc (3 * (256 + SEQWIRE_ITEM_OVERHEAD) + 16);
    size_t n = 0;
    for (int i = 0; i < 3; i++) {
        char id[16];
        snprintf (id, sizeof id, "ev-%d", i);
        size_t len = s_pack_event (payload, id, i * 1000);
        n += seqwire_replay_item (out + n, payload, len, (uint64_t) i + 7, (uint64_t) i + 100);
    }
    n += seqwire_replay_head (out + n, 9);
    n += seqwire_replay_last (out + n, 1ull << 40);
    Meso__V1__ReplayReply *r = meso__v1__replay_reply__unpack (NULL, n, out);
    assert_non_null (r);
    assert_int_equal (r->n_events, 3);
    assert_int_equal (r->head, 9);
    assert_int_equal (r->last_seq, 1ull << 40);
    for (int i = 0; i < 3; i++) {
        assert_int_equal (r->events[i]->stream_seq, (uint64_t) i + 7);
        assert_int_equal (r->events[i]->global_seq, (uint64_t) i + 100);
        assert_int_equal (r->events[i]->stock_low->available_milli, i * 1000);
    }
    meso__v1__replay_reply__free_unpacked (r, NULL);
    free (out);
}

static void
test_empty_reply_is_just_the_head (void **state)
{
    uint8_t out[16];
    size_t n = seqwire_replay_head (out, 0);
    Meso__V1__ReplayReply *r = meso__v1__replay_reply__unpack (NULL, n, out);
    assert_non_null (r);
    assert_int_equal (r->n_events, 0);
    assert_int_equal (r->head, 0);
    meso__v1__replay_reply__free_unpacked (r, NULL);
}

/* A page is never empty, whatever the size of the event at the cursor,
 * and otherwise stops before the event that would pass the budget. */
static void
test_a_page_always_takes_the_event_at_the_cursor (void **state)
{
    (void) state;
    assert_true (seqwire_page_takes (0, 0, 10 * SEQWIRE_PAGE_BYTES, SEQWIRE_PAGE_BYTES));
    assert_false (seqwire_page_takes (100, 1, SEQWIRE_PAGE_BYTES, SEQWIRE_PAGE_BYTES));
    size_t item = 1000, used = 0;
    int count = 0;
    while (seqwire_page_takes (used, count, item, SEQWIRE_PAGE_BYTES)) {
        used += item + SEQWIRE_ITEM_OVERHEAD;
        count++;
    }
    assert_true (used <= SEQWIRE_PAGE_BYTES);
    assert_true (used + item + SEQWIRE_ITEM_OVERHEAD > SEQWIRE_PAGE_BYTES);
    assert_int_equal (count, SEQWIRE_PAGE_BYTES / (item + SEQWIRE_ITEM_OVERHEAD));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_varint_encodings),
        cmocka_unit_test (test_completed_event_reads_back_with_sequences),
        cmocka_unit_test (test_replay_reply_of_several_events),
        cmocka_unit_test (test_empty_reply_is_just_the_head),
        cmocka_unit_test (test_a_page_always_takes_the_event_at_the_cursor),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
