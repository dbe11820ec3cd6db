/* handlers.c -- the inventory daemon's methods ("inventory.*"): the table
 * the bus server dispatches from, and the health notes.
 *
 * The methods live in one file per aggregate (inventory.h draws the map):
 * catalogue.c, lots.c, holds.c, consume.c, reports.c, recall.c,
 * holdcheck.c. Each method: decode
 * (the bus server does, from the table's input type), validate (every bad
 * field is named in a reason), run one transaction, reply. Mutating methods
 * run through frame_run: the idempotency claim, the effect and the stored
 * reply share the transaction, so a retried request replays its reply and
 * an error changes nothing (the whole transaction rolls back, claim
 * included).
 *
 * What the methods share (validation, the run frame, the stock.low check)
 * is frame.c's, not this file's, though the DESIGN puts it here: this file
 * names every method, and every method calls those helpers, so holding
 * both would make this file and each method file call each other. With
 * the table alone, nothing but main.c depends on this file.
 *
 * A method's scope is the clinic whose stock it reads or changes: for
 * Transfer the sending clinic (from_clinic_id), which gives the stock
 * away. Lots and appointments named next to the clinic are looked up in
 * that clinic only (store_lot_get, resv_load), so another clinic's id is
 * NOT_FOUND and nothing changes. */
#include "meso/access.h"
#include "inventory.h"

#include <stdio.h>

/* --------------------------------------------------------------- table */

const meso_method_t inventory_methods[] = {
    { "inventory.UpsertIngredient", inventory_upsert_ingredient, MESO_METHOD_MUTATING, &meso__v1__upsert_ingredient_request__descriptor,
      MESO_ROLE_OPERATOR, MESO_SCOPE_CHAIN, MESO_METHOD_NO_PATIENT },
    { "inventory.UpsertRecipe", inventory_upsert_recipe, MESO_METHOD_MUTATING, &meso__v1__upsert_recipe_request__descriptor,
      MESO_ROLE_OPERATOR, MESO_SCOPE_CHAIN, MESO_METHOD_NO_PATIENT },
    { "inventory.Receive", inventory_receive, MESO_METHOD_MUTATING, &meso__v1__receive_request__descriptor,
      MESO_ROLE_STOCK_KEEPER | MESO_ROLE_CLINIC_MANAGER, "clinic_id", MESO_METHOD_NO_PATIENT },
    { "inventory.Adjust", inventory_adjust, MESO_METHOD_MUTATING, &meso__v1__adjust_request__descriptor,
      MESO_ROLE_STOCK_KEEPER | MESO_ROLE_CLINIC_MANAGER, "clinic_id", MESO_METHOD_NO_PATIENT },
    { "inventory.DiscardExpired", inventory_discard_expired, MESO_METHOD_MUTATING, &meso__v1__discard_expired_request__descriptor,
      MESO_ROLE_STOCK_KEEPER | MESO_ROLE_CLINIC_MANAGER, "clinic_id", MESO_METHOD_NO_PATIENT },
    { "inventory.Transfer", inventory_transfer, MESO_METHOD_MUTATING, &meso__v1__transfer_request__descriptor,
      MESO_ROLE_STOCK_KEEPER | MESO_ROLE_CLINIC_MANAGER, "from_clinic_id", MESO_METHOD_NO_PATIENT },
    { "inventory.Reserve", inventory_reserve, MESO_METHOD_MUTATING, &meso__v1__reserve_request__descriptor,
      MESO_ROLE_SERVICE, "clinic_id", MESO_METHOD_PATIENT, "patient_id" },
    { "inventory.Release", inventory_release, MESO_METHOD_MUTATING, &meso__v1__release_request__descriptor,
      MESO_ROLE_SERVICE, "clinic_id", MESO_METHOD_PATIENT, MESO_PATIENT_HANDLER },
    { "inventory.Redate", inventory_redate, MESO_METHOD_MUTATING, &meso__v1__redate_request__descriptor,
      MESO_ROLE_SERVICE, "clinic_id", MESO_METHOD_PATIENT, MESO_PATIENT_HANDLER },
    { "inventory.Consume", inventory_consume, MESO_METHOD_MUTATING, &meso__v1__consume_request__descriptor,
      MESO_ROLE_SERVICE, "clinic_id", MESO_METHOD_PATIENT, "patient_id" },
    { "inventory.SetReorderPoint", inventory_set_reorder_point, MESO_METHOD_MUTATING, &meso__v1__set_reorder_point_request__descriptor,
      MESO_ROLE_STOCK_KEEPER | MESO_ROLE_CLINIC_MANAGER, "clinic_id", MESO_METHOD_NO_PATIENT },
    { "inventory.Recall", inventory_recall, MESO_METHOD_MUTATING, &meso__v1__recall_request__descriptor,
      MESO_ROLE_STOCK_KEEPER | MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_OPERATOR, "clinic_id", MESO_METHOD_PATIENT, MESO_PATIENT_HANDLER },
    { "inventory.GetStock", inventory_get_stock, MESO_METHOD_READ, &meso__v1__get_stock_request__descriptor,
      MESO_ROLE_STOCK_KEEPER | MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_CLINICIAN | MESO_ROLE_FRONT_DESK, "clinic_id", MESO_METHOD_NO_PATIENT },
    { "inventory.Forecast", inventory_forecast, MESO_METHOD_READ, &meso__v1__forecast_request__descriptor,
      MESO_ROLE_STOCK_KEEPER | MESO_ROLE_CLINIC_MANAGER, "clinic_id", MESO_METHOD_NO_PATIENT },
    { "inventory.GetRecipe", inventory_get_recipe, MESO_METHOD_READ, &meso__v1__get_recipe_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN | MESO_ROLE_STOCK_KEEPER | MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_SERVICE | MESO_ROLE_OPERATOR, NULL, MESO_METHOD_NO_PATIENT },
    { "inventory.GetIngredients", inventory_get_ingredients, MESO_METHOD_READ, &meso__v1__get_ingredients_request__descriptor,
      MESO_ROLE_ALL, NULL, MESO_METHOD_NO_PATIENT },
    { "inventory.ListAtRisk", inventory_list_at_risk, MESO_METHOD_READ, &meso__v1__list_at_risk_request__descriptor,
      MESO_ROLE_STOCK_KEEPER | MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN | MESO_ROLE_SERVICE, "clinic_id", MESO_METHOD_PATIENT, MESO_PATIENT_HANDLER },
    { "inventory.CheckHold", inventory_check_hold, MESO_METHOD_READ, &meso__v1__check_hold_request__descriptor,
      MESO_ROLE_SERVICE | MESO_ROLE_STOCK_KEEPER | MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_CLINICIAN, "clinic_id", MESO_METHOD_NO_PATIENT },
    { "inventory.Valuation", inventory_valuation, MESO_METHOD_READ, &meso__v1__valuation_request__descriptor,
      MESO_ROLE_STOCK_KEEPER | MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_OPERATOR, "clinic_id", MESO_METHOD_NO_PATIENT },
    { "inventory.ExportPatient", inventory_export_patient, MESO_METHOD_READ, &meso__v1__export_patient_request__descriptor,
      MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_OPERATOR, MESO_SCOPE_HANDLER, MESO_METHOD_PATIENT, "patient_id" },
    { NULL, NULL, 0, NULL, 0, NULL, 0 }
};

/* --------------------------------------------------------------- health */

void
inventory_health (Meso__V1__HealthReply *health, void *arg)
{
    inventory_t *self = ((inventory_t *) arg)->main;     /* a worker's copy points there */
    static __thread char notes[2][96];
    static __thread char *note_ptrs[2];
    note_ptrs[0] = notes[0];
    note_ptrs[1] = notes[1];
    snprintf (notes[0], sizeof notes[0], "consumer=%s session_cursor=%llu",
              self->consumer ? "on" : "off", (unsigned long long) atomic_load (&self->cursors[0]));
    snprintf (notes[1], sizeof notes[1], "events_applied=%llu expiring_sent=%llu",
              (unsigned long long) atomic_load (&self->events_applied),
              (unsigned long long) atomic_load (&self->expiring_sent));
    health->n_notes = 2;
    health->notes = note_ptrs;
}
