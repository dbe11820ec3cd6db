/* test_frontdesk_billing.c -- billing's lookups through the real daemon:
 * GetInvoice with its lines and what is due, ListInvoices by patient,
 * date and open/paid, paged newest first while invoices are issued
 * between pages (none lost or repeated), GetPayment, and the refusals
 * naming their field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "billing_fixture.h"
#include "billing_calls.h"

static fx_t *s_fx;
static char s_inv[3][40], s_pay[40];

static int
s_setup (void **state)
{
    (void) state;
    s_fx = fx_setup ("frontdesk_billing");
    fx_screened (s_fx, "pat-1");
    fx_screened (s_fx, "pat-2");
    const int64_t amounts[] = { 35000, 40000, 45000 };
    for (int i = 0; i < 3; i++) {
        Meso__V1__IssueInvoiceReply *out = NULL;
        assert_int_equal (bc_invoice (s_fx, "mad", "pat-1", 1, &amounts[i], NULL, &out), MESO_OK);
        snprintf (s_inv[i], sizeof s_inv[i], "%s", out->invoice->invoice_id);
        bc_free (out);
    }
    Meso__V1__IssueInvoiceReply *out = NULL;
    assert_int_equal (bc_invoice (s_fx, "mad", "pat-2", 1, &amounts[0], NULL, &out), MESO_OK);
    bc_free (out);
    /* The first invoice paid in full. */
    assert_int_equal (fx_pay (s_fx, "mad", "pat-1", s_inv[0], 35000, NULL, NULL, s_pay), MESO_OK);
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    fx_teardown (s_fx);
    return 0;
}

static Meso__V1__ListInvoicesReply *
s_list (const char *patient, const char *from, const char *to, const char *state, uint32_t size, const char *token)
{
    Meso__V1__ListInvoicesRequest rq = MESO__V1__LIST_INVOICES_REQUEST__INIT;
    rq.clinic_id = "mad";
    rq.patient_id = (char *) patient;
    rq.from_date = (char *) from;
    rq.to_date = (char *) to;
    rq.state = (char *) state;
    rq.page_size = size;
    rq.page_token = (char *) token;
    Meso__V1__ListInvoicesReply *rep = NULL;
    assert_int_equal (bc_call (s_fx, "billing.ListInvoices", &rq.base, &meso__v1__list_invoices_reply__descriptor,
                               &rep), MESO_OK);
    return rep;
}

static void
test_get_invoice_and_payment (void **state)
{
    (void) state;
    Meso__V1__GetInvoiceRequest gi = MESO__V1__GET_INVOICE_REQUEST__INIT;
    gi.clinic_id = "mad";
    gi.invoice_id = s_inv[1];
    Meso__V1__GetInvoiceReply *inv = NULL;
    assert_int_equal (bc_call (s_fx, "billing.GetInvoice", &gi.base, &meso__v1__get_invoice_reply__descriptor, &inv),
                      MESO_OK);
    assert_string_equal (inv->invoice->patient_id, "pat-1");
    assert_int_equal (inv->invoice->total_cents, 40000);
    assert_int_equal (inv->invoice->due_cents, 40000);
    assert_int_equal (inv->invoice->n_lines, 1);
    assert_int_equal (inv->invoice->lines[0]->amount_cents, 40000);
    bc_free (inv);
    gi.invoice_id = "no-such-invoice";
    assert_int_equal (bc_call (s_fx, "billing.GetInvoice", &gi.base, NULL, NULL), MESO_NOT_FOUND);

    Meso__V1__GetPaymentRequest gp = MESO__V1__GET_PAYMENT_REQUEST__INIT;
    gp.clinic_id = "mad";
    gp.payment_id = s_pay;
    Meso__V1__GetPaymentReply *pay = NULL;
    assert_int_equal (bc_call (s_fx, "billing.GetPayment", &gp.base, &meso__v1__get_payment_reply__descriptor, &pay),
                      MESO_OK);
    assert_int_equal (pay->payment->amount_cents, 35000);
    assert_string_equal (pay->payment->invoice_id, s_inv[0]);
    assert_string_equal (meso_enum_str (&meso__v1__payment_method__descriptor, (int) pay->payment->method), "card");
    assert_int_equal (pay->payment->refunded_cents, 0);
    bc_free (pay);
}

static void
test_list_filters (void **state)
{
    (void) state;
    Meso__V1__ListInvoicesReply *l = s_list ("pat-1", NULL, NULL, NULL, 0, NULL);
    assert_int_equal (l->n_invoices, 3);
    /* newest first */
    assert_string_equal (l->invoices[0]->invoice_id, s_inv[2]);
    assert_string_equal (l->invoices[2]->invoice_id, s_inv[0]);
    assert_int_equal (l->invoices[2]->paid_cents, 35000);
    assert_int_equal (l->invoices[2]->due_cents, 0);
    assert_string_equal (l->next_page_token, "");
    bc_free (l);
    l = s_list ("pat-1", NULL, NULL, "open", 0, NULL);
    assert_int_equal (l->n_invoices, 2);
    bc_free (l);
    l = s_list (NULL, NULL, NULL, "paid", 0, NULL);
    assert_int_equal (l->n_invoices, 1);
    assert_string_equal (l->invoices[0]->invoice_id, s_inv[0]);
    bc_free (l);
    l = s_list (NULL, NULL, NULL, NULL, 0, NULL);
    assert_int_equal (l->n_invoices, 4);
    bc_free (l);
    char today[16], tomorrow[16];
    fx_date (0, today);
    fx_date (1, tomorrow);
    l = s_list ("pat-1", today, today, NULL, 0, NULL);
    assert_int_equal (l->n_invoices, 3);
    bc_free (l);
    l = s_list ("pat-1", tomorrow, NULL, NULL, 0, NULL);
    assert_int_equal (l->n_invoices, 0);
    bc_free (l);
    Meso__V1__ListInvoicesRequest rq = MESO__V1__LIST_INVOICES_REQUEST__INIT;
    rq.clinic_id = "mad";
    rq.state = "unpaid";
    meso_result_t r = { 0 };
    assert_int_equal (fx_call (s_fx, "billing.ListInvoices", &rq.base, NULL, &r), MESO_INVALID_ARGUMENT);
    assert_string_equal (r.reply->reasons[0]->field, "state");
    meso_result_reset (&r);
}

/* Two per page, newest first; an invoice issued between the pages is
 * newer than the cursor, so the walk goes on with the older ones: each
 * of the invoices there at the start comes exactly once. */
static void
test_list_paging_with_inserts (void **state)
{
    (void) state;
    char token[600] = "";
    char seen[8][40];
    int nseen = 0, pages = 0;
    do {
        Meso__V1__ListInvoicesReply *l = s_list ("pat-1", NULL, NULL, NULL, 2, token);
        for (size_t i = 0; i < l->n_invoices; i++) {
            for (int k = 0; k < nseen; k++)
                assert_string_not_equal (seen[k], l->invoices[i]->invoice_id);
            snprintf (seen[nseen++], 40, "%s", l->invoices[i]->invoice_id);
        }
        snprintf (token, sizeof token, "%s", l->next_page_token);
        bc_free (l);
        if (++pages == 1) {
            const int64_t a = 30000;
            Meso__V1__IssueInvoiceReply *out = NULL;
            assert_int_equal (bc_invoice (s_fx, "mad", "pat-1", 1, &a, NULL, &out), MESO_OK);
            bc_free (out);
        }
    } while (token[0] && pages < 10);
    assert_int_equal (pages, 2);
    assert_int_equal (nseen, 3);
    for (int i = 0; i < 3; i++) {
        bool found = false;
        for (int k = 0; k < nseen; k++)
            found |= strcmp (seen[k], s_inv[i]) == 0;
        assert_true (found);
    }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_get_invoice_and_payment),
        cmocka_unit_test (test_list_filters),
        cmocka_unit_test (test_list_paging_with_inserts),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
