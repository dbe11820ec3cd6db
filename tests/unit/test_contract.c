/* test_contract.c -- a method table checked against its service block
 * (meso/contract.h), in both directions, and a reply checked against its
 * rpc's output type. The tables of the daemons themselves are checked by
 * tests/tools/contract_methods.py and by each daemon when it starts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "meso/contract.h"
/* For meso_reply_message. */
#include "../../common/src/bus_private.h"
#include "events.pb-c.h"
#include "scheduling.pb-c.h"

static void
s_noop (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
}

static const meso_method_t s_events[] = {
    { "events.Replay", s_noop, MESO_METHOD_READ, &meso__v1__replay_request__descriptor, 0, NULL, 0 },
    { "events.Head", s_noop, MESO_METHOD_READ, &meso__v1__head_request__descriptor, 0, NULL, 0 },
    { NULL, NULL, 0, NULL, 0, NULL, 0 }
};

static void
test_service_by_daemon_name (void **state)
{
    assert_ptr_equal (meso_contract_service ("events"), &meso__v1__events_service__descriptor);
    assert_ptr_equal (meso_contract_service ("scheduling"),
                      &meso__v1__scheduling_service__descriptor);
    assert_null (meso_contract_service ("demo"));
    assert_null (meso_contract_service ("event"));
    const ProtobufCMethodDescriptor *rpc = meso_contract_method ("scheduling", "scheduling.BookCourse");
    assert_non_null (rpc);
    assert_ptr_equal (rpc->input, &meso__v1__book_course_request__descriptor);
    assert_ptr_equal (rpc->output, &meso__v1__book_course_reply__descriptor);
    rpc = meso_contract_method ("events", "Health");
    assert_non_null (rpc);
    assert_ptr_equal (rpc->output, &meso__v1__health_reply__descriptor);
    assert_null (meso_contract_method ("events", "events.Nothing"));
}

static void
test_matching_table_passes (void **state)
{
    char err [256] = "x";
    assert_int_equal (meso_contract_check (&meso__v1__events_service__descriptor, "events",
                                           s_events, err, sizeof err), 0);
    assert_string_equal (err, "");
    assert_int_equal (meso_contract_verify ("events", s_events), 0);
    /* A server the contract does not know (tests, benchmarks) is not checked. */
    assert_int_equal (meso_contract_verify ("demo", s_events), 0);
}

static void
test_rpc_without_entry_fails (void **state)
{
    const meso_method_t table[] = {
        { "events.Replay", s_noop, MESO_METHOD_READ, &meso__v1__replay_request__descriptor, 0, NULL, 0 },
        { NULL, NULL, 0, NULL, 0, NULL, 0 }
    };
    char err [256];
    assert_int_equal (meso_contract_check (&meso__v1__events_service__descriptor, "events",
                                           table, err, sizeof err), 1);
    assert_non_null (strstr (err, "meso.v1.EventsService.Head has no entry"));
    assert_int_equal (meso_contract_verify ("events", table), -1);
}

static void
test_entry_without_rpc_or_with_other_input_fails (void **state)
{
    const meso_method_t table[] = {
        { "events.Replay", s_noop, MESO_METHOD_READ, &meso__v1__head_request__descriptor, 0, NULL, 0 },
        { "events.Head", s_noop, MESO_METHOD_READ, &meso__v1__head_request__descriptor, 0, NULL, 0 },
        { "events.Tail", s_noop, MESO_METHOD_READ, &meso__v1__head_request__descriptor, 0, NULL, 0 },
        { NULL, NULL, 0, NULL, 0, NULL, 0 }
    };
    char err [256];
    assert_int_equal (meso_contract_check (&meso__v1__events_service__descriptor, "events",
                                           table, err, sizeof err), 2);
    assert_non_null (strstr (err, "events.Replay takes meso.v1.HeadRequest but its rpc takes "
                                  "meso.v1.ReplayRequest"));
    {
        const meso_method_t only_tail[] = {
            { "events.Replay", s_noop, MESO_METHOD_READ, &meso__v1__replay_request__descriptor, 0, NULL, 0 },
            { "events.Head", s_noop, MESO_METHOD_READ, &meso__v1__head_request__descriptor, 0, NULL, 0 },
            { "events.Tail", s_noop, MESO_METHOD_READ, &meso__v1__head_request__descriptor, 0, NULL, 0 },
            { NULL, NULL, 0, NULL, 0, NULL, 0 }
        };
        assert_int_equal (meso_contract_check (&meso__v1__events_service__descriptor, "events",
                                               only_tail, err, sizeof err), 1);
        assert_non_null (strstr (err, "events.Tail has no rpc in meso.v1.EventsService"));
    }
}

static void
test_reply_of_another_type_is_withheld (void **state)
{
    const meso_method_t *head = &s_events [1];
    meso_reply_t *reply = meso_reply_new ();
    Meso__V1__Heartbeat hb = MESO__V1__HEARTBEAT__INIT;
    hb.global_head = 7;
    meso_reply_ok (reply, &hb.base);
    meso_contract_check_reply ("events", head, reply);
    assert_int_equal (meso_reply_status (reply), MESO_OK);
    assert_ptr_equal (meso_reply_body_type (reply), &meso__v1__heartbeat__descriptor);

    Meso__V1__ReplayReply wrong = MESO__V1__REPLAY_REPLY__INIT;
    wrong.head = 7;
    meso_reply_ok (reply, &wrong.base);
    meso_contract_check_reply ("events", head, reply);
    assert_int_equal (meso_reply_status (reply), MESO_INTERNAL);
    assert_string_equal (meso_reply_message (reply),
                         "events.Head answered a meso.v1.ReplayReply instead of its "
                         "contract's meso.v1.Heartbeat");
    /* Bytes packed elsewhere (a stored reply) carry no type to check. */
    meso_reply_ok_bytes (reply, (const uint8_t *) "\x10\x07", 2);
    assert_null (meso_reply_body_type (reply));
    meso_contract_check_reply ("events", head, reply);
    assert_int_equal (meso_reply_status (reply), MESO_OK);
    meso_reply_destroy (&reply);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_service_by_daemon_name),
        cmocka_unit_test (test_matching_table_passes),
        cmocka_unit_test (test_rpc_without_entry_fails),
        cmocka_unit_test (test_entry_without_rpc_or_with_other_input_fails),
        cmocka_unit_test (test_reply_of_another_type_is_withheld),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
