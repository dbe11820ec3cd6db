/* handlers.c -- the billing daemon's method table ("billing.*") and its
 * Health notes.
 *
 * The table is the index of the service: each method lives in the file of
 * its aggregate (prices.c, taxes.c, packages.c, invoices.c, refunds.c,
 * statements.c, reports.c), the way
 * Redis keeps one t_<type>.c per data type, and the effect of consumed
 * events in charges.c. A method: decode (done by the bus server from the
 * table's input type), validate (every bad field named in a reason), run
 * one transaction, reply.
 *
 * What every method shares (validation helpers, the run frame, event
 * emission) is in frame.c, not here: this table names every method, so a
 * file holding both would call each aggregate file and be called by it, a
 * circle. Here is the top of the file graph; frame.c its bottom. */
#include "meso/access.h"
#include "billing.h"

#include <stdio.h>

/* -------------------------------------------------------- method table */

/* Each method is defined in the file of its aggregate (billing.h). */
const meso_method_t billing_methods[] = {
    { "billing.SetPriceList", billing_set_price_list, MESO_METHOD_MUTATING, &meso__v1__set_price_list_request__descriptor,
      MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_OPERATOR, "price_list.clinic_id", MESO_METHOD_NO_PATIENT },
    { "billing.GetPriceList", billing_get_price_list, MESO_METHOD_READ, &meso__v1__get_price_list_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_BILLING_CLERK | MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_INTEGRATION, "clinic_id", MESO_METHOD_NO_PATIENT },
    { "billing.SetFeePolicy", billing_set_fee_policy, MESO_METHOD_MUTATING, &meso__v1__set_fee_policy_request__descriptor,
      MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_OPERATOR, "policy.clinic_id", MESO_METHOD_NO_PATIENT },
    { "billing.SellPackage", billing_sell_package, MESO_METHOD_MUTATING, &meso__v1__sell_package_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_BILLING_CLERK, "clinic_id", MESO_METHOD_PATIENT, "patient_id" },
    { "billing.GetPackage", billing_get_package, MESO_METHOD_READ, &meso__v1__get_package_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_BILLING_CLERK | MESO_ROLE_CLINIC_MANAGER, "clinic_id", MESO_METHOD_PATIENT, MESO_PATIENT_HANDLER },
    { "billing.IssueInvoice", billing_issue_invoice, MESO_METHOD_MUTATING, &meso__v1__issue_invoice_request__descriptor,
      MESO_ROLE_BILLING_CLERK, "clinic_id", MESO_METHOD_PATIENT, "patient_id" },
    { "billing.RecordPayment", billing_record_payment, MESO_METHOD_MUTATING, &meso__v1__record_payment_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_BILLING_CLERK, "clinic_id", MESO_METHOD_PATIENT, "patient_id" },
    { "billing.RecordRefund", billing_record_refund, MESO_METHOD_MUTATING, &meso__v1__record_refund_request__descriptor,
      MESO_ROLE_BILLING_CLERK | MESO_ROLE_CLINIC_MANAGER, "clinic_id", MESO_METHOD_PATIENT, MESO_PATIENT_HANDLER },
    { "billing.GetStatement", billing_get_statement, MESO_METHOD_READ, &meso__v1__get_statement_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_BILLING_CLERK | MESO_ROLE_CLINIC_MANAGER, "clinic_id", MESO_METHOD_PATIENT, "patient_id" },
    { "billing.SetTaxRates", billing_set_tax_rates, MESO_METHOD_MUTATING, &meso__v1__set_tax_rates_request__descriptor,
      MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_OPERATOR, "tax_rates.clinic_id", MESO_METHOD_NO_PATIENT },
    { "billing.SetPackagePolicy", billing_set_package_policy, MESO_METHOD_MUTATING, &meso__v1__set_package_policy_request__descriptor,
      MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_OPERATOR, "policy.clinic_id", MESO_METHOD_NO_PATIENT },
    { "billing.RefundPackage", billing_refund_package, MESO_METHOD_MUTATING, &meso__v1__refund_package_request__descriptor,
      MESO_ROLE_BILLING_CLERK | MESO_ROLE_CLINIC_MANAGER, "clinic_id", MESO_METHOD_PATIENT, MESO_PATIENT_HANDLER },
    { "billing.CancelInvoice", billing_cancel_invoice, MESO_METHOD_MUTATING, &meso__v1__cancel_invoice_request__descriptor,
      MESO_ROLE_BILLING_CLERK | MESO_ROLE_CLINIC_MANAGER, "clinic_id", MESO_METHOD_PATIENT, MESO_PATIENT_HANDLER },
    { "billing.RevenueReport", billing_revenue_report, MESO_METHOD_READ, &meso__v1__revenue_report_request__descriptor,
      MESO_ROLE_BILLING_CLERK | MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_OPERATOR, MESO_SCOPE_HANDLER, MESO_METHOD_NO_PATIENT },
    { "billing.LiabilityReport", billing_liability_report, MESO_METHOD_READ, &meso__v1__liability_report_request__descriptor,
      MESO_ROLE_BILLING_CLERK | MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_OPERATOR, MESO_SCOPE_HANDLER, MESO_METHOD_NO_PATIENT },
    { "billing.ExportPatient", billing_export_patient, MESO_METHOD_READ, &meso__v1__export_patient_request__descriptor,
      MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_OPERATOR, MESO_SCOPE_HANDLER, MESO_METHOD_PATIENT, "patient_id" },
    { "billing.GetInvoice", billing_get_invoice, MESO_METHOD_READ, &meso__v1__get_invoice_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_BILLING_CLERK | MESO_ROLE_CLINIC_MANAGER, "clinic_id", MESO_METHOD_PATIENT, MESO_PATIENT_HANDLER },
    { "billing.ListInvoices", billing_list_invoices, MESO_METHOD_READ, &meso__v1__list_invoices_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_BILLING_CLERK | MESO_ROLE_CLINIC_MANAGER, "clinic_id", MESO_METHOD_PATIENT, MESO_PATIENT_HANDLER },
    { "billing.GetPayment", billing_get_payment, MESO_METHOD_READ, &meso__v1__get_payment_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_BILLING_CLERK | MESO_ROLE_CLINIC_MANAGER, "clinic_id", MESO_METHOD_PATIENT, MESO_PATIENT_HANDLER },
    { NULL, NULL, 0, NULL, 0, NULL, 0 }
};

/* -------------------------------------------------------------- health */

void
billing_health (Meso__V1__HealthReply *health, void *arg)
{
    billing_t *self = ((billing_t *) arg)->main;     /* a worker's copy points there */
    static __thread char notes[2][128];
    static __thread char *note_ptrs[2];
    note_ptrs[0] = notes[0];
    note_ptrs[1] = notes[1];
    snprintf (notes[0], sizeof notes[0], "consumer=%s session_cursor=%llu screening_cursor=%llu",
              self->consumer ? "on" : "off", (unsigned long long) atomic_load (&self->cursors[0]),
              (unsigned long long) atomic_load (&self->cursors[1]));
    snprintf (notes[1], sizeof notes[1], "events_applied=%llu sessions_charged=%llu packages_expired=%llu provider=%s",
              (unsigned long long) atomic_load (&self->events_applied),
              (unsigned long long) atomic_load (&self->sessions_charged),
              (unsigned long long) atomic_load (&self->packages_expired),
              self->provider ? self->provider->name : "");
    health->n_notes = 2;
    health->notes = note_ptrs;
}
