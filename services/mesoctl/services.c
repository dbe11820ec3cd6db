/* services.c -- how the subcommands of inventory and scheduling reach
 * their daemons (endpoint option, timeout, the quirks of their output).
 *
 * Each of those commands is spread over several files (cmd_inventory.c,
 * cmd_inventory_lots.c, cmd_inventory_holds.c; cmd_scheduling.c,
 * cmd_scheduling_days.c), and the first lists the others' subcommands:
 * the description they all use lives here, below all of them, so no two
 * of them refer to each other in a circle. */
#include "mesoctl.h"

const mesoctl_service_t mesoctl_inventory_service = {
    .name = "inventory",
    .summary = "A clinic's stock room: deliveries, stock, transfers, recalls, the forecast, the catalogue.",
    .endpoint = { "endpoint", "MESO_INVENTORY_ENDPOINT", "tcp://127.0.0.1:7103", "inventory daemon", NULL },
    .timeout_ms = 0,
    .timeout_default = "5000",
    .key_max = 128,
    .quirks = MESOCTL_Q_METHOD_ERRORS | MESOCTL_Q_SILENT_DECODE,
};

const mesoctl_service_t mesoctl_scheduling_service = {
    .name = "scheduling",
    .summary = "Clinics, practitioners and rooms; courses planned, booked and followed session by session.",
    .endpoint = { "endpoint", "MESO_SCHEDULING_ENDPOINT", "tcp://127.0.0.1:7102", "scheduling daemon endpoint", NULL },
    .timeout_ms = 30000,
    .quirks = MESOCTL_Q_SILENT_CLIENT | MESOCTL_Q_SILENT_DECODE | MESOCTL_Q_PBJSON,
};
