/* fhir_invoice.c -- a billing invoice as a FHIR R4 Invoice (fhir.h).
 *
 * Amounts are in the clinic's currency (Invoice.currency), tax included,
 * as billing keeps them: totalGross is what the patient pays, totalNet
 * the sum of the lines' net; each line carries its net as the "base"
 * price component and its tax as the "tax" one (with the rate as factor).
 * The status comes from the amounts (fhir_invoice_status: cancelled when
 * credited in full, balanced when nothing is due, else issued); what was
 * paid, credited and is due travel as extensions, since R4's Invoice has
 * no element for them. */
#include <stdio.h>

#include "fhir.h"

#define SYS_INVOICE "urn:meso:v1:invoice"

json_t *
fhir_invoice (const Meso__V1__Invoice *i, char *why, size_t size)
{
    const char *kind = fhir_field_invoice_kind (i);
    const char *display = fhir_invoice_kind_display (kind);
    if (!display) {
        snprintf (why, size, "invoice %s: kind \"%s\" is not known", i->invoice_id, kind);
        return NULL;
    }
    char id[FHIR_ID_SIZE], at[40];
    json_t *r = json_pack ("{s:s,s:s}", "resourceType", "Invoice", "id", fhir_id ("Invoice", i->invoice_id, id));
    fhir_extension (r, "amount-paid", "valueMoney", fhir_money (i->paid_cents, i->currency));
    fhir_extension (r, "amount-credited", "valueMoney", fhir_money (i->credited_cents, i->currency));
    fhir_extension (r, "amount-due", "valueMoney", fhir_money (i->due_cents, i->currency));
    json_t *ident = json_object ();
    fhir_set_str (ident, "system", SYS_INVOICE);
    fhir_set_str (ident, "value", i->invoice_id);
    json_object_set_new (r, "identifier", json_pack ("[o]", ident));
    json_object_set_new (r, "status",
                         json_string (fhir_invoice_status (i->total_cents, i->credited_cents, i->due_cents)));
    json_object_set_new (r, "type", fhir_concept (FHIR_SYS_INVOICE_KIND, kind, display, NULL));
    json_object_set_new (r, "subject", fhir_ref ("Patient", i->patient_id));
    fhir_instant (i->issued_at_us, at, sizeof at);
    json_object_set_new (r, "date", json_string (at));
    json_object_set_new (r, "issuer", fhir_ref ("Organization", i->clinic_id));
    if (i->n_lines) {
        json_t *items = json_array ();
        for (size_t k = 0; k < i->n_lines; k++) {
            const Meso__V1__InvoiceLine *l = i->lines[k];
            json_t *item = json_pack ("{s:I}", "sequence", (json_int_t) (k + 1));
            json_t *what = json_object ();
            fhir_set_str (what, "text", l->description && *l->description ? l->description : "Charge");
            json_object_set_new (item, "chargeItemCodeableConcept", what);
            json_t *base = json_pack ("{s:s,s:o}", "type", "base", "amount", fhir_money (l->net_cents, i->currency));
            json_t *tax = json_pack ("{s:s,s:o}", "type", "tax", "amount", fhir_money (l->tax_cents, i->currency));
            if (l->tax_rate_ppm)
                json_object_set_new (tax, "factor", json_real ((double) l->tax_rate_ppm / 1000000.0));
            json_object_set_new (item, "priceComponent", json_pack ("[o,o]", base, tax));
            json_array_append_new (items, item);
        }
        json_object_set_new (r, "lineItem", items);
    }
    json_object_set_new (r, "totalNet", fhir_money (i->net_cents, i->currency));
    json_object_set_new (r, "totalGross", fhir_money (i->total_cents, i->currency));
    return r;
}
