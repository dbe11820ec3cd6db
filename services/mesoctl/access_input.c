/* access_input.c -- the checks of "mesoctl access" inputs (see
 * access_input.h). Lists are split here rather than with strtok so that
 * an empty item ("a,,b") is refused by name instead of skipped: a typing
 * error in a scope should never widen or narrow it silently. */
#include <stdio.h>
#include <string.h>

#include "access_input.h"
#include "meso/access.h"

#define ITEM_MAX 64
#define CLINICS_MAX 1000

static const char *const s_streams[] = { "session", "screening", "stock", "billing" };
#define NSTREAMS (sizeof s_streams / sizeof s_streams[0])

int
mesoctl_access_name (const char *name, char *err, size_t errsize)
{
    size_t len = name ? strlen (name) : 0;
    bool ok = len >= 1 && len <= 64 && strchr ("._@-", name[0]) == NULL;
    for (size_t i = 0; ok && i < len; i++) {
        char c = name[i];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
             || (c && strchr ("._@-", c));
    }
    if (!ok)
        snprintf (err, errsize, "--name \"%s\": 1 to 64 letters, digits, '.', '_', '@' or '-', "
                  "starting with a letter or digit", name ? name : "");
    return ok ? 0 : -1;
}

int
mesoctl_access_kind (const char *kind, char *err, size_t errsize)
{
    if (meso_principal_kind_parse (kind) >= 0)
        return 0;
    snprintf (err, errsize, "--kind \"%s\": unknown kind (valid: person, integration, service, operator)",
              kind ? kind : "");
    return -1;
}

/* Calls fn on each comma-separated item of list, blanks around it trimmed;
 * stops at the first that returns -1. An empty item is given as "". */
typedef int (s_item_fn) (const char *item, void *arg);

static int
s_each (const char *list, s_item_fn *fn, void *arg)
{
    const char *p = list;
    for (;;) {
        const char *end = strchr (p, ',');
        size_t len = end ? (size_t) (end - p) : strlen (p);
        while (len && (*p == ' ' || *p == '\t')) {
            p++;
            len--;
        }
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        char item[ITEM_MAX + 2];
        if (len > ITEM_MAX)
            len = ITEM_MAX + 1;    /* too long: the check refuses it */
        memcpy (item, p, len);
        item[len] = '\0';
        if (fn (item, arg) != 0)
            return -1;
        if (!end)
            return 0;
        p = end + 1;
    }
}

/* The text[] literal being built, and why an item was refused. */
typedef struct {
    const char *option;         /* "--roles" */
    char *out;
    size_t size;
    size_t count;
    char *err;
    size_t errsize;
    unsigned mask;              /* roles seen */
} s_list_t;

/* Appends item unless it is already in the literal. */
static int
s_append (s_list_t *l, const char *item)
{
    char probe[ITEM_MAX + 3];
    snprintf (probe, sizeof probe, "%s,", item);
    size_t used = strlen (l->out);
    /* out is "{a,b," while being built: look for ",item," or "{item,". */
    for (const char *at = l->out + 1; (at = strstr (at, probe)) != NULL; at++)
        if (at[-1] == '{' || at[-1] == ',')
            return 0;
    if (used + strlen (probe) + 2 > l->size) {
        snprintf (l->err, l->errsize, "%s: too long a list", l->option);
        return -1;
    }
    memcpy (l->out + used, probe, strlen (probe) + 1);
    l->count++;
    return 0;
}

static int
s_role_item (const char *item, void *arg)
{
    s_list_t *l = arg;
    unsigned role = meso_role_parse (item);
    if (!role) {
        char valid[256];
        meso_roles_format (MESO_ROLE_ALL, valid, sizeof valid);
        snprintf (l->err, l->errsize, "--roles: %s \"%s\" (valid: %s)",
                  *item ? "unknown role" : "empty item", item, valid);
        return -1;
    }
    l->mask |= role;
    return s_append (l, item);
}

/* Closes "{a,b," into "{a,b}". */
static void
s_close (s_list_t *l)
{
    size_t used = strlen (l->out);
    l->out[used - 1] = '}';
}

static void
s_open (s_list_t *l, const char *option, char *out, size_t size, char *err, size_t errsize)
{
    *l = (s_list_t) { option, out, size, 0, err, errsize, 0 };
    snprintf (out, size, "{");
}

int
mesoctl_access_roles (const char *list, char *out, size_t size, char *err, size_t errsize)
{
    s_list_t l;
    s_open (&l, "--roles", out, size, err, errsize);
    if (!list || !*list) {
        char valid[256];
        meso_roles_format (MESO_ROLE_ALL, valid, sizeof valid);
        snprintf (err, errsize, "--roles is required: one or more of %s (or \"all\")", valid);
        return -1;
    }
    if (strcmp (list, "all") == 0) {
        for (int i = 0; i < MESO_ROLE_COUNT; i++)
            if (s_append (&l, meso_role_name (1u << i)) != 0)
                return -1;
    }
    else if (s_each (list, s_role_item, &l) != 0)
        return -1;
    s_close (&l);
    return 0;
}

static int
s_clinic_item (const char *item, void *arg)
{
    s_list_t *l = arg;
    size_t len = strlen (item);
    bool ok = len >= 1 && len <= 64;
    for (size_t i = 0; ok && i < len; i++) {
        char c = item[i];
        ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    }
    if (!ok) {
        snprintf (l->err, l->errsize, "--clinics: \"%s\" is not a clinic id (1 to 64 of a-z, 0-9, "
                  "'_', '-')", item);
        return -1;
    }
    if (l->count >= CLINICS_MAX) {
        snprintf (l->err, l->errsize, "--clinics: more than %d clinics (use \"all\")", CLINICS_MAX);
        return -1;
    }
    return s_append (l, item);
}

int
mesoctl_access_clinics (const char *list, bool required, bool *all, char *out, size_t size,
                        char *err, size_t errsize)
{
    *all = false;
    out[0] = '\0';
    if (!list || !*list) {
        if (required) {
            snprintf (err, errsize, "--clinics is required for a person or an integration: the "
                      "clinic ids it may act in, or \"all\" for every clinic of the chain");
            return -1;
        }
        *all = true;
        return 0;
    }
    if (strcmp (list, "all") == 0) {
        *all = true;
        return 0;
    }
    s_list_t l;
    s_open (&l, "--clinics", out, size, err, errsize);
    if (s_each (list, s_clinic_item, &l) != 0)
        return -1;
    s_close (&l);
    return 0;
}

static int
s_stream_item (const char *item, void *arg)
{
    s_list_t *l = arg;
    for (size_t i = 0; i < NSTREAMS; i++)
        if (strcmp (item, s_streams[i]) == 0)
            return s_append (l, item);
    snprintf (l->err, l->errsize, "--streams: %s \"%s\" (valid: session, screening, stock, billing)",
              *item ? "unknown stream" : "empty item", item);
    return -1;
}

int
mesoctl_access_streams (const char *list, bool *all, char *out, size_t size, char *err,
                        size_t errsize)
{
    *all = false;
    out[0] = '\0';
    if (!list || !*list || strcmp (list, "all") == 0) {
        *all = true;
        return 0;
    }
    s_list_t l;
    s_open (&l, "--streams", out, size, err, errsize);
    if (s_each (list, s_stream_item, &l) != 0)
        return -1;
    s_close (&l);
    return 0;
}

int
mesoctl_access_public_key (const char *key, char *err, size_t errsize)
{
    static const char z85[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                              ".-:+=^!/*?&<>()[]{}@%$#";
    size_t len = key ? strlen (key) : 0;
    bool ok = len == MESO_KEY_Z85_LEN && strspn (key, z85) == len;
    if (!ok)
        snprintf (err, errsize, "--public-key: a CURVE public key is 40 characters of Z85 text "
                  "(the public-key line of a CZMQ .key file), got %zu", len);
    return ok ? 0 : -1;
}
