/* handlers.c -- the webhooks daemon's methods ("webhooks.*"): the table
 * the bus server dispatches from, and the health notes.
 *
 * Who may manage subscriptions: clinic managers (for their clinics) and
 * operators. A webhook sends a clinic's events out of the chain, which is
 * a manager's decision, not the front desk's; integrations do not
 * subscribe themselves (an operator or manager gives them a URL and the
 * secret). Every method resolves its clinic itself (MESO_SCOPE_HANDLER):
 * the request's clinic_id for Add and List, the stored subscription's for
 * the others, before any effect. No method reads or changes a patient's
 * data: the events a subscription receives are not a method's reply. */
#include "meso/access.h"
#include "webhooks.h"

#include <stdio.h>


const meso_method_t webhooks_methods[] = {
    { "webhooks.AddSubscription", webhooks_add_subscription, MESO_METHOD_MUTATING, &meso__v1__add_subscription_request__descriptor,
      MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_OPERATOR, MESO_SCOPE_HANDLER, MESO_METHOD_NO_PATIENT },
    { "webhooks.ListSubscriptions", webhooks_list_subscriptions, MESO_METHOD_READ, &meso__v1__list_subscriptions_request__descriptor,
      MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_OPERATOR, MESO_SCOPE_HANDLER, MESO_METHOD_NO_PATIENT },
    { "webhooks.PauseSubscription", webhooks_pause_subscription, MESO_METHOD_MUTATING, &meso__v1__pause_subscription_request__descriptor,
      MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_OPERATOR, MESO_SCOPE_HANDLER, MESO_METHOD_NO_PATIENT },
    { "webhooks.ResumeSubscription", webhooks_resume_subscription, MESO_METHOD_MUTATING, &meso__v1__resume_subscription_request__descriptor,
      MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_OPERATOR, MESO_SCOPE_HANDLER, MESO_METHOD_NO_PATIENT },
    { "webhooks.RemoveSubscription", webhooks_remove_subscription, MESO_METHOD_MUTATING, &meso__v1__remove_subscription_request__descriptor,
      MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_OPERATOR, MESO_SCOPE_HANDLER, MESO_METHOD_NO_PATIENT },
    { "webhooks.ReplayDeliveries", webhooks_replay_deliveries, MESO_METHOD_MUTATING, &meso__v1__replay_deliveries_request__descriptor,
      MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_OPERATOR, MESO_SCOPE_HANDLER, MESO_METHOD_NO_PATIENT },
    { "webhooks.ListDeliveries", webhooks_list_deliveries, MESO_METHOD_READ, &meso__v1__list_deliveries_request__descriptor,
      MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_OPERATOR, MESO_SCOPE_HANDLER, MESO_METHOD_NO_PATIENT },
    { NULL, NULL, 0, NULL, 0, NULL, 0 }
};

void
webhooks_health (Meso__V1__HealthReply *health, void *arg)
{
    webhooks_t *self = arg;
    static char note[512];
    static char *note_ptrs[1] = { note };
    int64_t lag_ms = 0;
    wh_engine_describe (self->engine, note, sizeof note, &lag_ms);
    health->lag_ms = lag_ms;
    health->n_notes = 1;
    health->notes = note_ptrs;
}
