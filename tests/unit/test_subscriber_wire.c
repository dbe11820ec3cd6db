/* test_subscriber_wire.c -- the subscriber walks an events.Replay reply on
 * the wire (common/src/subscriber_wire.c): every event's bytes exactly as
 * sent, the head, the last sequence examined, unknown fields skipped, and
 * a truncated reply reported instead of read past its end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../common/src/subscriber_private.h"
#include "events.pb-c.h"

static size_t
s_reply (uint8_t *buf, int nevents, uint64_t head, uint64_t last)
{
    Meso__V1__Event evs[4];
    Meso__V1__Event *ptrs[4];
    for (int i = 0; i < nevents; i++) {
        meso__v1__event__init (&evs[i]);
        evs[i].type = "stock.low";
        evs[i].stream = "stock";
        evs[i].stream_seq = (uint64_t) (i * 2 + 1);    /* 1, 3, 5: skips are allowed */
        ptrs[i] = &evs[i];
    }
    Meso__V1__ReplayReply r = MESO__V1__REPLAY_REPLY__INIT;
    r.n_events = (size_t) nevents;
    r.events = ptrs;
    r.head = head;
    r.last_seq = last;
    return meso__v1__replay_reply__pack (&r, buf);
}

static void
test_events_head_and_last (void **state)
{
    uint8_t buf[512];
    size_t len = s_reply (buf, 3, 9, 6);
    size_t pos = 0;
    meso_page_item_t it;
    uint64_t seqs[3];
    int n = 0;
    uint64_t head = 0, last = 0;
    meso_page_field_t f;
    while ((f = meso_page_next (buf, len, &pos, &it)) != MESO_PAGE_END) {
        assert_int_not_equal (f, MESO_PAGE_BAD);
        if (f == MESO_PAGE_EVENT) {
            Meso__V1__Event *ev = meso__v1__event__unpack (NULL, it.len, it.raw);
            assert_non_null (ev);
            assert_true (it.raw >= buf && it.raw + it.len <= buf + len);
            seqs[n++] = ev->stream_seq;
            meso__v1__event__free_unpacked (ev, NULL);
        }
        else if (f == MESO_PAGE_HEAD)
            head = it.value;
        else if (f == MESO_PAGE_LAST)
            last = it.value;
    }
    assert_int_equal (n, 3);
    assert_int_equal (seqs[0], 1);
    assert_int_equal (seqs[2], 5);
    assert_int_equal (head, 9);
    assert_int_equal (last, 6);
}

/* A page without events (all outside the caller's clinics) still moves
 * the caller: last_seq is there. */
static void
test_empty_page_carries_last (void **state)
{
    uint8_t buf[64];
    size_t len = s_reply (buf, 0, 40, 37);
    size_t pos = 0;
    meso_page_item_t it;
    assert_int_equal (meso_page_next (buf, len, &pos, &it), MESO_PAGE_HEAD);
    assert_int_equal (it.value, 40);
    assert_int_equal (meso_page_next (buf, len, &pos, &it), MESO_PAGE_LAST);
    assert_int_equal (it.value, 37);
    assert_int_equal (meso_page_next (buf, len, &pos, &it), MESO_PAGE_END);
}

/* Fields this reader does not know (a later version of the contract) are
 * skipped by wire type; a truncated reply is BAD, never read past. */
static void
test_unknown_fields_and_truncation (void **state)
{
    uint8_t buf[128];
    size_t n = 0;
    buf[n++] = (7 << 3) | 2;            /* unknown length-delimited */
    buf[n++] = 3;
    memcpy (buf + n, "abc", 3);
    n += 3;
    buf[n++] = (8 << 3) | 1;            /* unknown fixed64 */
    memset (buf + n, 0, 8);
    n += 8;
    buf[n++] = (9 << 3) | 5;            /* unknown fixed32 */
    memset (buf + n, 0, 4);
    n += 4;
    buf[n++] = (2 << 3) | 0;            /* head = 5 */
    buf[n++] = 5;
    size_t pos = 0;
    meso_page_item_t it;
    assert_int_equal (meso_page_next (buf, n, &pos, &it), MESO_PAGE_HEAD);
    assert_int_equal (it.value, 5);
    assert_int_equal (meso_page_next (buf, n, &pos, &it), MESO_PAGE_END);

    uint8_t full[512];
    size_t len = s_reply (full, 2, 9, 4);
    for (size_t cut = 1; cut < len; cut++) {
        pos = 0;
        meso_page_field_t f;
        int guard = 0;
        while ((f = meso_page_next (full, cut, &pos, &it)) != MESO_PAGE_END && f != MESO_PAGE_BAD)
            assert_true (++guard < 10);
        assert_true (pos <= cut);
    }
    const uint8_t group[] = { (1 << 3) | 3 };  /* groups are not used: BAD */
    pos = 0;
    assert_int_equal (meso_page_next (group, sizeof group, &pos, &it), MESO_PAGE_BAD);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_events_head_and_last),
        cmocka_unit_test (test_empty_page_carries_last),
        cmocka_unit_test (test_unknown_fields_and_truncation),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
