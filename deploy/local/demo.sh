#!/usr/bin/env bash
# demo.sh -- the scripted demo of the local run: loads a small chain of
# clinics and walks one patient from registration to her first completed
# session, through mesoctl against the running daemons, printing each
# command before its output.
#
#   deploy/local/demo.sh          (deploy/local/up.sh runs it after start-up)
#
# Environment: MESOCTL (the mesoctl binary; default build/bin/mesoctl),
# the MESO_*_ENDPOINT variables up.sh exports (defaults: the standard ports),
# MESO_KEYS (default: the state folder's keys, ${MESO_LOCAL_DIR:-.local}/keys)
# and MESO_DB (the migration role, for mesoctl access; default: the local
# cluster of up.sh).
#
# What it does:
#   0. one principal per role with `mesoctl access add`, key pairs in
#      <keys>/people: the Paris clinic's front desk, clinician, stock
#      keeper, billing clerk and manager, and a CRM integration (session
#      and billing streams, no health data). Each step below runs as the
#      principal whose job it is (MESO_KEY=<file> mesoctl ...); what the
#      other clinics and the chain need (ingredients, recipes) runs as the
#      operator key. One refused call is shown: the front desk trying a
#      refund (PERMISSION_DENIED), and another clinic's stock;
#   0b. every daemon's Health: its worker pool (MESO_WORKERS) and whether
#      each worker's database connection is up;
#   1. three clinics in three time zones (New York, Paris, Sydney) with
#      opening hours, practitioners, rooms and their body mesotherapy
#      consent text (version 1);
#   2. the ingredient catalogue and the cocktail recipes;
#   3. stock lots with their expiry dates in every clinic;
#   4. price lists, tax rates (US sales tax, French VAT, Australian GST)
#      and package settings per clinic, when meso-billing is running;
#   5. a patient registered and screened (eligible), the clinic's consent
#      signed in front of a witness (booking needs it), her course planned
#      (shown as a calendar in the clinic's local time) and booked, a
#      supplier recall of one caffeine lot moving her sessions to another
#      lot, the first session started and completed, her statement;
#   5b. a second patient, allergic to procaine, booked on the draining
#      cocktail (artichoke, an ingredient added through inventory: one
#      catalogue, checked by screening at once), her sessions prepaid as a
#      package; the month's revenue report and the prepaid liability;
#   5c. the reports: utilisation, no-shows, outcomes, stock valuation;
#   5d. her whole record exported as one JSON document (mesoctl patient
#      export, as the Paris manager), and as a FHIR R4 Bundle (mesoctl
#      fhir export), when meso-billing is running;
#   5e. a third patient registered, screened and erased (mesoctl patient
#      erase, operator): what reads back afterwards, and the refusal of a
#      new screening under her id;
#   5f. the front desk: the clinic's reminder leads and offer hold, the
#      second patient's course moved a week later in one go, her place on
#      the waitlist, the first patient's second session cancelled and its
#      slot offered to her and taken;
#   5g. the front desk's day: a patient found by the start of her name
#      (accents and case ignored), the agenda of her next session's day as
#      a timetable, the clinic's rooms and practitioners, her courses;
#   6. the events all of this produced, per stream; her courses read
#      again from Python with the client generated from the contract
#      (deploy/examples/python/courses.py);
#   6b. a webhook: the Paris manager subscribes a small local receiver
#      (deploy/examples/webhooks/receiver.py) to Paris's session events;
#      the last ones are replayed to it and it checks their signatures,
#      when meso-webhooks is running;
#   7. who read or changed the first patient's data (mesoctl audit
#      patient), and every clinic's audit chain verified.
#
# Why it is built this way:
# - Running it again must succeed and change nothing: every mutating call
#   carries a fixed idempotency key (a retry returns the stored reply), and
#   what depends on today's date (lots expire relative to today, the course
#   starts in two days) is looked up first and only created when absent.
# - Only mesoctl is used (and one read from Python), so the demo doubles
#   as a tour of its commands.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd -P)
M=${MESOCTL:-$ROOT/build/bin/mesoctl}
[ -x "$M" ] || { echo "demo.sh: $M not found (build first, or set MESOCTL)" >&2; exit 1; }
LOCAL=${MESO_LOCAL_DIR:-$ROOT/.local}
export MESO_KEYS=${MESO_KEYS:-$LOCAL/keys}
export MESO_DB=${MESO_DB:-host=$LOCAL/pg/run port=${MESO_LOCAL_PGPORT:-54320} user=meso dbname=meso}
# The people's key pairs (made here): MESO_DEMO_PEOPLE, else beside the
# daemons' keys (a container whose keys folder is read-only names another).
PEOPLE=${MESO_DEMO_PEOPLE:-$MESO_KEYS/people}
# The principal the next commands run as ("": the operator key).
AS=

section() { printf '\n==================== %s\n' "$*"; }
note() { printf -- '-- %s\n' "$*"; }
# Runs mesoctl as $AS.
mc() {
    if [ -n "$AS" ]; then MESO_KEY="$PEOPLE/$AS.key_secret" "$M" "$@"; else "$M" "$@"; fi
}
# The commands after it run as principal $1 ("" or "operator": the
# operator key).
as() {
    AS=${1#operator}
    note "as ${1:-operator}${2:+ ($2)}"
}
# Prints the command, then runs it.
show_cmd() {
    local a line='$ mesoctl'
    [ -z "$AS" ] || line="\$ MESO_KEY=people/$AS.key_secret mesoctl"
    for a in "$@"; do
        case "$a" in *[[:space:]\'\"\;\&\|\(\)\$]*) line+=" '$a'" ;; *) line+=" $a" ;; esac
    done
    printf '%s\n' "$line"
}
run() {
    show_cmd "$@"
    mc "$@"
}
# Runs quietly; prints the output only when the command fails.
quiet() {
    local out
    if ! out=$(mc "$@" 2>&1); then
        show_cmd "$@" >&2
        printf '%s\n' "$out" >&2
        return 1
    fi
}
# First value of "field":"..." in JSON on stdin.
json_field() { { grep -o "\"$1\":\"[^\"]*\"" || true; } | head -n 1 | cut -d'"' -f4; }

day() { date -u -d "$1" +%F; }

# ------------------------------------------------------------ the chain
# id|name|zone|opening hours|days|currency|prices by number of areas
# (tax rates by clinic: TAXES below)
CLINICS=(
    "nyc|Meso Manhattan|America/New_York|09:00-19:00|1-6|USD|1:350,2:420,3:480"
    "par|Meso Paris Marais|Europe/Paris|09:00-18:00|1-6|EUR|1:300,2:360,3:420"
    "syd|Meso Sydney Harbour|Australia/Sydney|08:00-17:00|1-5|AUD|1:380,2:440,3:500"
)
# clinic|tax rates (category:percent; prices include them)
TAXES=(
    "nyc|standard:8.875"
    "par|standard:20,reduced:5.5"
    "syd|standard:10"
)
# clinic|practitioner id|name|working hours|days
PRACTITIONERS=(
    "nyc|nyc-ortiz|Dr Elena Ortiz|09:00-17:00|1-5"
    "nyc|nyc-chen|Dr Wei Chen|11:00-19:00|2-6"
    "par|par-moreau|Dr Claire Moreau|09:00-18:00|1-5"
    "par|par-benali|Dr Samir Benali|09:00-14:00|1-6"
    "syd|syd-walker|Dr Kate Walker|08:00-17:00|1-5"
    "syd|syd-nguyen|Dr Minh Nguyen|08:00-13:00|1-5"
)
# clinic|room id|name
ROOMS=(
    "nyc|nyc-r1|Treatment room 1" "nyc|nyc-r2|Treatment room 2"
    "par|par-r1|Salle 1" "par|par-r2|Salle 2"
    "syd|syd-r1|Room Bondi" "syd|syd-r2|Room Manly"
)
# code|name|unit|form
INGREDIENTS=(
    "caffeine|Caffeine|mg|ampoule 5 ml, 250 mg"
    "l_carnitine|L-carnitine|mg|ampoule 5 ml, 1 g"
    "artichoke|Artichoke extract|mg|ampoule 5 ml, 200 mg"
    "phosphatidylcholine|Phosphatidylcholine|mg|ampoule 5 ml, 250 mg"
    "procaine|Procaine 1%|ml|ampoule 2 ml"
)
# id|name|lines (area:ingredient:quantity per session)
RECIPES=(
    "lipo-std|Lipolytic: caffeine and L-carnitine|thighs:caffeine:100,thighs:l_carnitine:200,hips:caffeine:80,hips:l_carnitine:150,abdomen:caffeine:120,abdomen:l_carnitine:250,thighs:procaine:0.5,hips:procaine:0.5,abdomen:procaine:0.5"
    "drain-std|Draining: artichoke and caffeine|thighs:artichoke:100,thighs:caffeine:50,legs:artichoke:150,legs:caffeine:60"
    "firm-pc|Firming: phosphatidylcholine|abdomen:phosphatidylcholine:250,arms:phosphatidylcholine:150,abdomen:procaine:0.5,arms:procaine:0.5"
)
# ingredient|lot prefix|quantity|expiry in days from the first load
# ingredient|lot prefix|quantity|expires in days|cost of one unit (mg or ml;
# empty: not known, the valuation shows the lot as uncosted)
LOTS=(
    "caffeine|CAF1|2500|40|0.04" "caffeine|CAF2|10000|400|0.03"
    "l_carnitine|LCA1|20000|300|0.02"
    "artichoke|ART1|8000|200|0.05"
    "phosphatidylcholine|PC1|5000|250|0.08"
    "procaine|PRO1|100|500|"
)

# name|kind|roles|clinics|streams|health: one principal per role
PRINCIPALS=(
    "par-frontdesk|person|front_desk|par||"
    "par-clinician|person|clinician|par||--health"
    "par-stock|person|stock_keeper|par||"
    "par-billing|person|billing_clerk|par||"
    "par-manager|person|clinic_manager|par||--health"
    "crm|integration|integration|all|session,billing|"
)
# Runs the command as the Paris manager for clinic par, else as operator.
by_clinic() { if [ "$1" = par ]; then AS=par-manager; else AS=; fi; }
# The methods whose handler finds the clinic from what the request names
# (a practitioner, a patient's course, an appointment: UpsertPractitioner,
# GetCourse, StartSession, CompleteSession) run as the Paris staff too: the
# handler checks the clinic before any effect. HANDLER_SCOPES=0 runs them
# as the operator key instead.
handler_as() { if [ "${HANDLER_SCOPES:-1}" = 1 ]; then AS=$1; else AS=; fi; }

section "0. Who may do what: one principal per role (mesoctl access, as the migration role)"
for p in "${PRINCIPALS[@]}"; do
    IFS='|' read -r name kind roles clinics streams health <<<"$p"
    if "$M" access show --name "$name" >/dev/null 2>&1; then
        echo "$name: registered by an earlier run"
        continue
    fi
    # A pair made by an earlier run whose database is gone: register it again.
    if [ -f "$PEOPLE/$name.key" ]; then keyarg=(--key-file "$PEOPLE/$name.key"); else keyarg=(--out "$PEOPLE"); fi
    echo "\$ mesoctl access add --name $name --kind $kind --roles $roles --clinics $clinics" \
         "${streams:+--streams $streams }$health ${keyarg[*]}"
    "$M" access add --name "$name" --kind "$kind" --roles "$roles" --clinics "$clinics" \
        ${streams:+--streams "$streams"} $health "${keyarg[@]}"
done
"$M" access list

section "0b. Each daemon serves with a pool of workers (MESO_WORKERS)"
note "one worker per core by default, each with its own database connection; Health says how many"
note "and how many have their connection up (the workers=N connected=M note)"
note "the workers take requests from one shared queue (MESO_WORKER_QUEUE per worker, default 4):"
note "a request never waits behind a slow one while another worker is free"
"$M" health || true     # billing may be absent: its line says so

section "1. Clinics, practitioners and rooms (scheduling)"
note "each clinic is set up by its manager (Paris) or the operator (the others)"
note "three clinics in three time zones; every time below is the clinic's local time"
for c in "${CLINICS[@]}"; do
    IFS='|' read -r id name zone hours days _ _ <<<"$c"
    by_clinic "$id"
    run scheduling clinic --clinic "$id" --name "$name" --zone "$zone" --hours "$hours" --days "$days" \
        --key "demo-clinic-$id"
done
for p in "${PRACTITIONERS[@]}"; do
    IFS='|' read -r clinic id name hours days <<<"$p"
    by_clinic "$clinic"
    [ "$clinic" != par ] || handler_as par-manager
    run scheduling practitioner --practitioner "$id" --name "$name" --clinic "$clinic" --hours "$hours" \
        --days "$days" --key "demo-practitioner-$id"
done
for r in "${ROOMS[@]}"; do
    IFS='|' read -r clinic id name <<<"$r"
    by_clinic "$clinic"
    run scheduling room --clinic "$clinic" --room "$id" --name "$name" --key "demo-room-$id"
done
note "each clinic's treatment consent text (screening keeps it, versioned, with its SHA-256)"
for c in "${CLINICS[@]}"; do
    IFS='|' read -r id name _ _ _ _ _ <<<"$c"
    by_clinic "$id"
    run consent text-set --clinic "$id" --treatment body_mesotherapy --key "demo-consent-text-$id" \
        --text "Body mesotherapy at $name: I have been told how the injections are given, the bruising and soreness they may cause for 7-10 days, and that I may stop the course at any time. I consent to the treatment."
done

section "2. Ingredient catalogue and cocktail recipes (inventory)"
as operator "the catalogue is the chain's"
for i in "${INGREDIENTS[@]}"; do
    IFS='|' read -r code name unit form <<<"$i"
    run inventory ingredient --code "$code" --name "$name" --unit "$unit" --form "$form" \
        --key "demo-ingredient-$code"
done
for r in "${RECIPES[@]}"; do
    IFS='|' read -r id name lines <<<"$r"
    run inventory recipe --recipe "$id" --name "$name" --lines "$lines" --key "demo-recipe-$id"
done

section "3. Stock lots with their expiry, per clinic (inventory)"
for c in "${CLINICS[@]}"; do
    IFS='|' read -r clinic _ <<<"$c"
    if [ "$clinic" = par ]; then AS=par-stock; else AS=; fi
    have=$(mc inventory stock --clinic "$clinic" --empty --all --json)
    for l in "${LOTS[@]}"; do
        IFS='|' read -r ing prefix qty days cost <<<"$l"
        lot="$prefix-${clinic^^}"
        if grep -q "\"lot_number\":\"$lot\"" <<<"$have"; then
            continue    # received by an earlier run
        fi
        quiet inventory receive --clinic "$clinic" --ingredient "$ing" --lot "$lot" \
            --expiry "$(day "+$days days")" --qty "$qty" --supplier "Meso Pharma" --cost "$cost" \
            --key "demo-receive-$lot"
    done
    run inventory stock --clinic "$clinic"
done

section "4. Prices per clinic (billing)"
BILLING=0
if "$M" health --services billing --timeout 1000 >/dev/null 2>&1; then
    BILLING=1
    for c in "${CLINICS[@]}"; do
        IFS='|' read -r id _ _ _ _ currency prices <<<"$c"
        by_clinic "$id"
        run billing prices set --clinic "$id" --from 2024-01-01 --prices "$prices" --currency "$currency" \
            --key "demo-prices-$id"
        run billing fees --clinic "$id" --no-show 50 --late-cancel 30 --key "demo-fees-$id"
    done
    for t in "${TAXES[@]}"; do
        IFS='|' read -r id rates <<<"$t"
        run billing taxes --clinic "$id" --from 2024-01-01 --rates "$rates" --key "demo-taxes-$id"
    done
    note "Paris accepts the packages of every clinic of the chain; they last a year by default"
    run billing package policy --clinic par --validity-days 365 --accepts '*' --key demo-packages-par
    run billing prices show --clinic par
else
    note "meso-billing is not running: no prices (the rest of the demo does not need them)"
fi

section "5. A patient: registration and screening (screening)"
as par-frontdesk "front desk of Paris"
reg=$(mc patient register --given Ana --family Lopez --birth 1990-05-04 --clinic par --sex female \
        --email ana.lopez@example.org --key demo-patient-ana --json)
PATIENT=$(json_field id <<<"$reg")
[ -n "$PATIENT" ] || { echo "demo.sh: no patient id in: $reg" >&2; exit 1; }
echo "\$ MESO_KEY=people/$AS.key_secret mesoctl patient register --given Ana --family Lopez --birth 1990-05-04 --clinic par ..."
echo "patient $PATIENT (Ana Lopez, home clinic par)"
as par-clinician "clinician of Paris, sees health data"
run screening record --patient "$PATIENT" --clinic par --no all --height-mm 1680 --weight-g 64000 --areas thighs:2,hips:2 \
    --diet yes --exercise yes --localised_fat_deposits yes --early_stage_cellulite yes --key demo-screening-ana
note "the Paris consent text is read to her and she signs it, witnessed (no session starts without it)"
as par-frontdesk
run consent text-show --clinic par
run consent sign --patient "$PATIENT" --clinic par --witness "Nurse Julie Martin" --key demo-consent-ana
run consent list --patient "$PATIENT" --clinic par

section "6. Planning her course: a preview, nothing is booked (scheduling)"
existing=$(handler_as par-frontdesk; mc scheduling course --patient "$PATIENT" --json)
COURSE=$(json_field course_id <<<"$existing")
if [ -z "$COURSE" ]; then
    FIRST=$(day "+2 days")
    run scheduling plan --clinic par --patient "$PATIENT" --grade 2 --areas thighs,hips --first "$FIRST" \
        --time 10:00 --recipe lipo-std

    section "7. Booking it: screening checked, every session placed, stock reserved (the saga)"
    run scheduling book --clinic par --patient "$PATIENT" --grade 2 --areas thighs,hips --first "$FIRST" \
        --time 10:00 --recipe lipo-std --key "demo-book-ana-$FIRST"
    existing=$(handler_as par-frontdesk; mc scheduling course --patient "$PATIENT" --json)
    COURSE=$(json_field course_id <<<"$existing")
else
    note "her course was booked by an earlier run of this demo (course $COURSE)"

    section "7. Her booked course"
    handler_as par-frontdesk
    run scheduling course --course "$COURSE"
fi
APPT=$(json_field appointment_id <<<"$existing")
[ -n "$APPT" ] || { echo "demo.sh: the course has no session" >&2; exit 1; }
note "the course's stock is reserved in the Paris clinic:"
as par-stock "stock keeper of Paris"
run inventory stock --clinic par
note "every list comes in pages: the lots 2 at a time (the next page's token on stderr), then --all"
run inventory stock --clinic par --page-size 2
run inventory stock --clinic par --page-size 2 --all

section "7b. A supplier recalls caffeine lot CAF1-PAR: her sessions move to another lot (inventory)"
# The recall takes the lot out of every booked session's reservation and
# reserves each again from the clinic's other usable lots (here CAF2-PAR);
# a session no lot could cover would be listed as at risk. A fixed key:
# a second run replays the same answer.
run inventory recall --ingredient caffeine --lot CAF1-PAR --clinic par \
    --reason "supplier notice: particles in ampoules" --key demo-recall-CAF1-PAR
run inventory at-risk --clinic par
note "the first session's stock, checked as StartSession checks it:"
as par-clinician
run inventory hold --clinic par --appointment "$APPT"

section "8. The first session: started (screening checked again), then completed"
handler_as par-clinician
run scheduling start --appointment "$APPT" --key "demo-start-$APPT"
run scheduling complete --appointment "$APPT" --score 1 --key "demo-complete-$APPT"
if [ $BILLING -eq 1 ]; then
    # Billing charges the session from its session.completed event: wait
    # for the charge to appear (a second or so).
    for _ in $(seq 1 30); do
        st=$(AS=par-billing mc billing statement --clinic par --patient "$PATIENT" --json 2>/dev/null || true)
        grep -q "\"appointment_id\":\"$APPT\"" <<<"$st" && break
        sleep 0.1
    done
    as par-billing "billing clerk of Paris"
    run billing statement --clinic par --patient "$PATIENT"
fi

section "8a. Roles and clinic scopes: refused calls"
as par-frontdesk
if [ $BILLING -eq 1 ]; then
    note "the front desk may take a payment but not refund one (billing clerks and managers do):"
    cmd=(billing refund --clinic par --payment 00000000-0000-4000-8000-000000000000 --amount 100
         --reason "customer asked" --key demo-refund-refused)
else
    note "the front desk may look at stock but not receive it (stock keepers and managers do):"
    cmd=(inventory receive --clinic par --ingredient caffeine --lot REFUSED --expiry "$(day "+30 days")"
         --qty 1 --key demo-receive-refused)
fi
show_cmd "${cmd[@]}"
if out=$(mc "${cmd[@]}" 2>&1); then
    echo "demo.sh: the front desk's ${cmd[0]} ${cmd[1]} was not refused" >&2
    exit 1
fi
printf '%s\n' "$out"
grep -q PERMISSION_DENIED <<<"$out" || { echo "demo.sh: expected PERMISSION_DENIED" >&2; exit 1; }
note "and Paris's front desk sees Paris's stock, not New York's:"
show_cmd inventory stock --clinic nyc
if out=$(mc inventory stock --clinic nyc 2>&1); then
    echo "demo.sh: the Paris front desk read New York's stock" >&2
    exit 1
fi
printf '%s\n' "$out"

section "8b. One ingredient catalogue: a second patient on the draining cocktail"
note "artichoke was added through inventory above; screening keeps no list of its own and"
note "checks allergies against inventory's catalogue, so the recipe using it books at once"
as par-frontdesk
run inventory ingredients --codes artichoke,procaine
reg=$(mc patient register --given Ines --family Martin --birth 1985-11-20 --clinic par --sex female \
        --email ines.martin@example.org --key demo-patient-ines --json)
PATIENT2=$(json_field id <<<"$reg")
[ -n "$PATIENT2" ] || { echo "demo.sh: no patient id in: $reg" >&2; exit 1; }
echo "second patient $PATIENT2 (Ines Martin, home clinic par, allergic to procaine)"
AS=par-clinician
quiet screening record --patient "$PATIENT2" --clinic par --no all --height-mm 1650 --weight-g 60000 --areas thighs:2 \
    --allergies procaine --key demo-screening-ines
AS=par-frontdesk
quiet consent sign --patient "$PATIENT2" --clinic par --witness "Nurse Julie Martin" --key demo-consent-ines
FIRST2=$(day "+3 days")
note "the lipolytic cocktail holds procaine: screening refuses it for her"
as par-clinician
run screening check --patient "$PATIENT2" --clinic par --date "$FIRST2" --ingredients caffeine,l_carnitine,procaine \
    || true
as par-frontdesk
existing2=$(handler_as par-frontdesk; mc scheduling course --patient "$PATIENT2" --json)
COURSE2=$(json_field course_id <<<"$existing2")
if [ -z "$COURSE2" ]; then
    note "the draining cocktail (artichoke, caffeine) books"
    run scheduling book --clinic par --patient "$PATIENT2" --grade 2 --areas thighs --first "$FIRST2" \
        --time 12:00 --sessions 3 --recipe drain-std --key "demo-book-ines-$FIRST2"
else
    note "her draining course was booked by an earlier run of this demo (course $COURSE2)"
fi

if [ $BILLING -eq 1 ]; then
    section "8c. The month's revenue and the prepaid liability (billing)"
    note "Ines pays her three draining sessions ahead: prepaid, a liability until performed"
    as par-frontdesk
    run billing package sell --clinic par --patient "$PATIENT2" --sessions 3 --price 990 --key demo-package-ines
    as operator "the chain's figures: every clinic"
    MONTH=$(date -u +%Y-%m-01)
    run billing revenue --clinic nyc,par,syd --from "$MONTH" --to "$(day "$MONTH +1 month -1 day")" --by month
    run billing liability --clinic nyc,par,syd
fi
section "8d. Reports for the chain manager (scheduling, inventory)"
as par-manager
note "utilisation of the practitioners of par over four weeks, by ISO week"
MONDAY=$(day "-$(( $(date -u +%u) - 1 )) days")
run reports utilisation --clinic par --from "$MONDAY" --to "$(day "$MONDAY +27 days")"
run reports no-shows --clinic par --from "$(day "-30 days")" --to "$(day "+60 days")"
run reports outcomes --clinic par --from "$(day "-30 days")" --to "$(day "+30 days")"
note "this month's stock valuation of par (procaine was received without a cost)"
run reports valuation --clinic par --from "$(date -u +%Y-%m-01)" --to "$(day today)"

if [ $BILLING -eq 1 ]; then
    section "8e. Her whole record, exported (GDPR article 15)"
    handler_as par-manager
    note "screening, scheduling, inventory and billing each answer for what they hold; one JSON document"
    EXPORT_DIR=$(mktemp -d)
    run patient export "$PATIENT" --out "$EXPORT_DIR/ana-lopez.json"
    note "its header (the sections follow: screening, scheduling, inventory, billing, audit):"
    head -n 1 "$EXPORT_DIR/ana-lopez.json"
    echo "($(wc -c <"$EXPORT_DIR/ana-lopez.json") bytes)"
    note "the same record as a FHIR R4 Bundle (README \"FHIR R4 export\"): its resources by type"
    run fhir export --patient "$PATIENT" --out "$EXPORT_DIR/ana-lopez.fhir.json"
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import collections, json, sys
b = json.load (open (sys.argv[1]))
print (", ".join ("%s %d" % kv for kv in collections.Counter (e["resource"]["resourceType"] for e in b["entry"]).items ()))' \
            "$EXPORT_DIR/ana-lopez.fhir.json"
    else
        # The mesoctl image has no Python: the Bundle's size, and its resource types counted by grep.
        echo "($(wc -c <"$EXPORT_DIR/ana-lopez.fhir.json") bytes, $(grep -o '"resourceType"' "$EXPORT_DIR/ana-lopez.fhir.json" | wc -l) resources)"
    fi
    rm -r "$EXPORT_DIR"
fi
section "8f. A patient asks to be erased (screening, operator)"
note "her personal and health fields are sealed under her own key; erasure destroys the key"
# Erasure deletes the stored replies that repeat her data, so a second run
# would register her again: look for an erasure in the screening stream
# first.
as operator
shead=$(mc events head --json | grep -o '"stream":"screening","head":[0-9]*' | grep -o '[0-9]*$' || echo 0)
ERASED=
if [ "${shead:-0}" -gt 0 ]; then
    ERASED=$(mc events tail --stream screening --from 0 --count "$shead" --json 2>/dev/null | tr -d ' \n' \
        | grep -o '"patient_erased":{"patient_id":"[^"]*"' | head -n 1 | cut -d'"' -f6 || true)
fi
if [ -z "$ERASED" ]; then
    as par-frontdesk
    reg=$(mc patient register --given Lea --family Martin --birth 1985-09-12 --clinic par --sex female \
            --phone "+33 6 12 34 56 78" --key demo-patient-lea --json)
    ERASED=$(json_field id <<<"$reg")
    [ -n "$ERASED" ] || { echo "demo.sh: no patient id in: $reg" >&2; exit 1; }
    echo "patient $ERASED (Lea Martin, home clinic par)"
    as par-clinician
    run screening record --patient "$ERASED" --clinic par --no all --height-mm 1650 --weight-g 60000 \
        --areas thighs:1 --key demo-screening-lea
    as operator "erasure is the operator's"
    run patient erase "$ERASED" --reason "GDPR art. 17 request (demo)" --key demo-erase-lea
else
    note "patient $ERASED was erased by an earlier run"
fi
as operator
note "what is left: ids, dates and the verdict; names read [erased], the answers are gone"
run screening show --patient "$ERASED"
note "a new screening needs a new registration"
run screening record --patient "$ERASED" --clinic par --no all --height-mm 1650 --weight-g 60000 \
    --areas thighs:1 --key demo-screening-lea-2 || true
section "8g. The front desk: reminders, a whole course moved, the waitlist (scheduling)"
as par-manager "manager of Paris"
note "reminders 48 h and 2 h before each session (the clinic's wall clock); waitlist offers held 30 minutes"
run scheduling front-desk --clinic par --leads 2880,120 --hold 30 --key demo-frontdesk-par
as par-frontdesk
TODAY=$(day today)
COURSE2=$(handler_as par-frontdesk; mc scheduling course --patient "$PATIENT2" --json | json_field course_id)
note "Ines is away for a week: her remaining sessions move from a later day, all or nothing, stock re-dated"
run scheduling reschedule-course --course "$COURSE2" --from "$(day "+10 days")" --key "demo-move-ines-$TODAY"
note "she would rather come earlier: she waits for a slot to move her next session to"
run scheduling waitlist join --clinic par --patient "$PATIENT2" --from "$(day "+1 day")" --to "$(day "+16 days")" \
    --course "$COURSE2" --key "demo-wait-ines-$TODAY"
ANA2=$(handler_as par-frontdesk; mc scheduling course --course "$COURSE" --json \
       | { grep -o '"appointment_id":"[^"]*"' || true; } | sed -n 2p | cut -d'"' -f4)
if [ -n "$ANA2" ]; then
    note "Ana cannot come to her second session: the freed slot is offered to Ines and held for her"
    run scheduling cancel --appointment "$ANA2" --by patient --reason "travelling" --key "demo-cancel-$ANA2"
fi
run scheduling waitlist list --clinic par --status all
OFFER=$(handler_as par-frontdesk; mc scheduling waitlist list --clinic par --json | json_field offer_id)
if [ -n "$OFFER" ]; then
    note "Ines takes it: her next session moves into the held slot"
    run scheduling waitlist accept --clinic par --offer "$OFFER" --key "demo-accept-$OFFER"
fi
section "8h. The front desk's day: search, agenda, lookups (screening, scheduling)"
as par-frontdesk
note "find a patient by the start of her names, accents and case ignored"
run patient search --clinic par --name "ana lóp"
courses=$(handler_as par-frontdesk; mc scheduling courses --patient "$PATIENT" --json)
NEXT=$(json_field next_local_start <<<"$courses" | cut -c1-10)
note "the agenda of Paris on the day of her next session: a row per time, a column per room"
run agenda --clinic par --date "${NEXT:-$(day today)}"
run scheduling rooms --clinic par
run scheduling practitioners --clinic par
handler_as par-frontdesk
run scheduling courses --patient "$PATIENT"

section "9. The events all this produced (events)"
# The events daemon moves committed changes into the log within moments.
sleep 0.3
as operator "every stream"
head=$(mc events head --json)
for stream in session screening stock billing; do
    n=$(grep -o "\"stream\":\"$stream\",\"head\":[0-9]*" <<<"$head" | grep -o '[0-9]*$' || echo 0)
    n=${n:-0}
    last=12
    [ "$stream" = session ] && last=14
    from=$(( n > last ? n - last : 0 ))
    if [ "$n" -eq 0 ]; then
        note "stream $stream: no events yet"
        continue
    fi
    note "stream $stream: the last $(( n - from )) of $n events"
    # The CRM integration reads the session stream (no health data).
    if [ "$stream" = session ]; then AS=crm; note "as crm (integration: session and billing streams)"; else AS=; fi
    run events tail --stream "$stream" --from "$from" --count "$(( n - from ))"
done

section "9b. The same daemons from Python: the client generated from the contract"
# clients/python/meso_client.py exposes every rpc of the .proto service
# blocks; deploy/examples/python/courses.py reads her courses with it, as
# the Paris front desk. Skipped (and said) without Debian's python3-zmq
# and python3-protobuf.
if /usr/bin/python3 -c 'import zmq, google.protobuf' 2>/dev/null && command -v protoc >/dev/null; then
    STUBS=$(cd "$(dirname "$M")/.." && pwd -P)/python
    [ -f "$STUBS/meso/v1/rpc_pb2.py" ] || STUBS=
    echo "\$ MESO_KEY=people/par-frontdesk.key_secret python3 deploy/examples/python/courses.py --patient $PATIENT"
    MESO_KEY="$PEOPLE/par-frontdesk.key_secret" MESO_PY_STUBS=$STUBS \
        /usr/bin/python3 "$ROOT/deploy/examples/python/courses.py" --patient "$PATIENT" \
        || note "the Python client failed (status $?)"
else
    note "skipped: /usr/bin/python3 with python3-zmq and python3-protobuf, and protoc, are needed"
fi

section "9c. Webhooks: the session events of Paris, signed, to an HTTP receiver (webhooks)"
# A receiver (deploy/examples/webhooks/receiver.py: checks each signature
# and timestamp, drops duplicates) on a loopback port; the Paris manager
# subscribes it to Paris's session events without health fields. The add
# carries a fixed key, so a second run finds the same subscription and
# secret; the replay (fresh key each run) sends the last session events
# again, so every run shows deliveries. Paused at the end, so nothing
# keeps knocking at a receiver that is gone.
WH_PORT=${MESO_DEMO_WEBHOOK_PORT:-$(( ${MESO_LOCAL_PORT_BASE:-7100} + 8 ))}
if ! "$M" health --services webhooks --timeout 1000 >/dev/null 2>&1; then
    note "meso-webhooks is not running: skipped"
elif ! command -v python3 >/dev/null 2>&1; then
    note "python3 not found (the example receiver): skipped"
else
    WH_DIR=$(mktemp -d)
    python3 "$ROOT/deploy/examples/webhooks/receiver.py" --port "$WH_PORT" \
        --secret-file "$WH_DIR/secret" >"$WH_DIR/received" 2>&1 &
    WH_PID=$!
    as par-manager "clinic manager"
    show_cmd webhooks add --clinic par --url "http://127.0.0.1:$WH_PORT/meso" --streams session
    out=$(mc webhooks add --clinic par --url "http://127.0.0.1:$WH_PORT/meso" --streams session \
          --description "demo receiver" --key demo-webhook-par)
    # The secret is shown once; the demo hands it to its receiver.
    sed 's/^  secret .*/  secret (64 hex digits, handed to the receiver)/' <<<"$out"
    awk '$1 == "secret" { print $2 }' <<<"$out" >"$WH_DIR/secret"
    WH_ID=$(awk '$1 == "subscription" { print $2; exit }' <<<"$out")
    head=$(mc events head --json | grep -o '"stream":"session","head":[0-9]*' | grep -o '[0-9]*$' || echo 0)
    from=$(( ${head:-0} > 8 ? ${head:-0} - 8 : 1 ))
    note "send again the session events from sequence $from (those of Paris go out)"
    show_cmd webhooks replay --id "$WH_ID" --stream session --from-seq "$from"
    mc webhooks replay --id "$WH_ID" --stream session --from-seq "$from" \
        --key "demo-webhook-replay-$(date +%s%N)" >/dev/null
    for _ in $(seq 1 50); do
        grep -q 'signature ok' "$WH_DIR/received" && \
            [ "$(mc webhooks list --clinic par --json | grep -o '"seq":[0-9]*' | head -n 1 | cut -d: -f2)" = "$head" ] && break
        sleep 0.1
    done
    note "what the receiver printed (it checked every signature with the secret)"
    cat "$WH_DIR/received"
    run webhooks deliveries --id "$WH_ID" --page-size 5
    mc webhooks pause --id "$WH_ID" --key "demo-webhook-pause-$(date +%s%N)" >/dev/null
    note "subscription paused (mesoctl webhooks resume --id $WH_ID to go on)"
    kill "$WH_PID" 2>/dev/null || true
    wait "$WH_PID" 2>/dev/null || true
    rm -rf "$WH_DIR"
    AS=
fi

section "10. Who read or changed the patient's data (mesoctl audit, as the migration role)"
note "every read and change of a patient's data left a row, hash-chained per clinic"
echo "\$ mesoctl audit patient $PATIENT --limit 20"
"$M" audit patient "$PATIENT" --limit 20
note "verify recomputes every clinic's chain from the raw rows"
echo "\$ mesoctl audit verify"
"$M" audit verify

section "Done"
echo "patient $PATIENT, course $COURSE; first session $APPT completed."
echo "Try: $M scheduling course --patient $PATIENT"
echo "     $M events tail --stream session          (follows new events; Ctrl-C to stop)"
