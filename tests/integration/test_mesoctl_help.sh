#!/usr/bin/env bash
# test_mesoctl_help.sh -- every subcommand of mesoctl has its own --help:
# its usage, exactly its own options (with the common ones: --endpoint,
# --json, --key where it mutates, --timeout for inventory), the methods it
# calls ("Calls:"), --page-size, --page-token and --all together on a list
# subcommand, and an example;
# "mesoctl <service> --help" lists the subcommands and "mesoctl --help" the
# commands. Also: the flags the old shared tables took are still accepted
# (scheduling, billing package). The same for the commands that talk to
# no daemon: keys init (its folder option, MESO_KEYS) and access (the
# migration role's --db, MESO_DB). No daemon is needed.
set -euo pipefail
: "${MESO_BUILD_DIR:?}"
M=$MESO_BUILD_DIR/bin/mesoctl
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# service|subcommand|its options, sorted, without --help and --version
EXPECT=(
  "patient|register|birth clinic email endpoint family given json key phone sex"
  "patient|update|birth clinic email endpoint family given json key patient phone sex"
  "screening|record|allergies areas clinic diet early_stage_cellulite endpoint exercise file height-mm json key last-nsaid localised_fat_deposits medications no patient weight-g yes"
  "screening|show|all endpoint history json page-size page-token patient"
  "screening|check|clinic date endpoint ingredients json patient"
  "screening|report-change|changes endpoint json key note patient"
  "screening|settings|bmi-obesity clinic endpoint json key max-age validity-days"
  "consent|text-set|clinic endpoint file json key text treatment"
  "consent|text-show|clinic endpoint json text-version treatment"
  "consent|sign|clinic endpoint json key patient sha256 text-version treatment witness"
  "consent|list|all clinic endpoint json page-size page-token patient treatment"
  "inventory|receive|clinic cost endpoint expiry ingredient json key lot qty supplier timeout"
  "inventory|stock|all clinic empty endpoint ingredient json page-size page-token timeout"
  "inventory|transfer|endpoint from json lot-id qty reason timeout to"
  "inventory|recall|all clinic endpoint ingredient json key lot lot-id page-size page-token reason timeout"
  "inventory|at-risk|all clinic endpoint from json page-size page-token timeout"
  "inventory|hold|appointment clinic endpoint json timeout"
  "inventory|forecast|clinic days endpoint json timeout"
  "inventory|ingredient|code endpoint form json key name timeout unit"
  "inventory|ingredients|after codes endpoint json limit timeout"
  "inventory|recipe|endpoint json key lines name recipe timeout"
  "inventory|adjust|clinic endpoint json key lot-id qty reason timeout"
  "inventory|discard-expired|as-of clinic endpoint json key timeout"
  "inventory|reorder-point|clinic endpoint ingredient json key qty timeout warn-days"
  "inventory|recipe-show|areas endpoint json recipe recipe-version timeout"
  "inventory|reserve|appointment areas clinic date endpoint json key patient recipe recipe-version timeout"
  "inventory|release|appointment clinic endpoint json key reason timeout"
  "inventory|redate|appointment clinic date endpoint json key reason timeout"
  "inventory|consume|actual appointment clinic date endpoint json key patient timeout"
  "scheduling|clinic|clinic days endpoint hours json key name no-overlapping-courses overlapping-courses slot zone"
  "scheduling|practitioner|clinic days days-off endpoint hours json key name practitioner"
  "scheduling|room|active clinic endpoint inactive json key name room"
  "scheduling|plan|areas clinic endpoint first grade json maintenance mild patient practitioner recipe sessions time"
  "scheduling|book|areas clinic endpoint first grade json key maintenance mild patient practitioner recipe sessions time"
  "scheduling|course|all course endpoint json page-size page-token patient"
  "scheduling|reschedule|appointment at endpoint json key practitioner room"
  "scheduling|cancel|appointment by endpoint json key reason"
  "scheduling|start|appointment endpoint json key"
  "scheduling|complete|appointment endpoint json key score"
  "scheduling|no-show|appointment endpoint json key"
  "scheduling|book-session|areas at clinic endpoint json key maintenance minutes patient practitioner recipe room"
  "scheduling|availability|clinic date endpoint json practitioner"
  "scheduling|clinic-show|clinic endpoint json"
  "billing|prices set|clinic currency endpoint from json key prices"
  "billing|prices show|all clinic date endpoint json page-size page-token"
  "billing|fees|clinic endpoint json key late-cancel no-show"
  "billing|package sell|clinic endpoint expires json key patient price sessions"
  "billing|package show|all clinic endpoint json package page-size page-token"
  "billing|invoice|amount areas clinic date description endpoint json key patient tax-category"
  "billing|pay|amount clinic currency endpoint invoice json key method patient reference"
  "billing|refund|amount clinic endpoint invoice json key payment reason"
  "billing|statement|all clinic endpoint json page-size page-token patient"
  "billing|taxes|clinic endpoint from json key rates"
  "billing|package policy|accepts clinic endpoint json key validity-days"
  "billing|package refund|clinic endpoint json key package reason"
  "billing|cancel|clinic endpoint invoice json key reason"
  "billing|revenue|by clinic endpoint from json to"
  "billing|liability|clinic endpoint json"
  "events|tail|count endpoint from json pub-endpoint stream timeout"
  "events|head|endpoint json timeout"
  "reports|utilisation|clinic endpoint from json practitioner to"
  "reports|no-shows|clinic endpoint from json to"
  "reports|outcomes|clinic endpoint from json to"
  "reports|valuation|clinic endpoint from ingredient json to"
)

for e in "${EXPECT[@]}"; do
    IFS='|' read -r svc sub want <<<"$e"
    # shellcheck disable=SC2086
    if ! out=$("$M" $svc $sub --help 2>&1); then
        fail "$svc $sub --help: exit status not 0"; continue
    fi
    head -n 1 <<<"$out" | grep -q "^Usage: mesoctl $svc $sub " || fail "$svc $sub --help: no usage line"
    got=$(sed -n '/^Options/,/^Example/p' <<<"$out" | grep -oE '^  --[a-z0-9_-]+' | sed 's/^  --//' \
          | grep -vxE 'help|version' | sort | tr '\n' ' ' | sed 's/ $//')
    [ "$got" = "$want" ] || fail "$svc $sub --help lists: $got; expected: $want"
    grep -qE '^Examples?:$' <<<"$out" || fail "$svc $sub --help: no example"
    grep -q "^  mesoctl $svc $sub --" <<<"$out" || fail "$svc $sub --help: no example line"
    grep -qE 'env MESO_[A-Z_]+_ENDPOINT' <<<"$out" || fail "$svc $sub --help: the endpoint's variable is not shown"
    # It names the methods it calls (tests/tools/mesoctl_methods.py).
    grep -qE '^Calls: [a-z]+\.[A-Z][A-Za-z]*(,[a-z]+\.[A-Z][A-Za-z]*)*$' <<<"$out" \
        || fail "$svc $sub --help: no \"Calls:\" line"
    # A list subcommand pages: all three paging options, or none.
    npage=$(grep -cE '^  --(page-size|page-token) ' <<<"$out" || true)
    if [ "$npage" -ne 0 ] && [ "$npage" -ne 2 ]; then fail "$svc $sub --help: half the paging options"; fi
    if [ "$npage" -eq 2 ] && ! grep -qE '^  --all ' <<<"$out"; then fail "$svc $sub --help: --page-size without --all"; fi
    # The service's --help lists the subcommand with a summary.
    "$M" $svc --help | grep -qE "^  $sub  +[a-z]" || fail "$svc --help does not list $sub"
done

# The subcommands of the paged methods take the paging options.
for c in "screening show" "consent list" "inventory stock" "inventory recall" "inventory at-risk" \
         "scheduling course" "billing prices show" "billing package show" "billing statement"; do
    # shellcheck disable=SC2086
    out=$("$M" $c --help 2>&1)
    for o in page-size page-token all; do
        grep -qE "^  --$o " <<<"$out" || fail "$c --help: no --$o"
    done
done

# The commands that talk to no daemon: their own option, not --endpoint.
# command|subcommand|its options|the common option's variable
LOCAL=(
  "keys|init|dir names|MESO_KEYS"
  "access|add|clinics db health key-file kind name out public-key roles streams|MESO_DB"
  "access|list|db json|MESO_DB"
  "access|show|db json name|MESO_DB"
  "access|revoke|db name|MESO_DB"
  "access|bootstrap|db init integrations keys|MESO_DB"
)
for e in "${LOCAL[@]}"; do
    IFS='|' read -r cmd sub want var <<<"$e"
    out=$("$M" "$cmd" "$sub" --help 2>&1) || { fail "$cmd $sub --help: exit status not 0"; continue; }
    head -n 1 <<<"$out" | grep -q "^Usage: mesoctl $cmd $sub " || fail "$cmd $sub --help: no usage line"
    got=$(sed -n '/^Options/,/^Example/p' <<<"$out" | grep -oE '^  --[a-z0-9_-]+' | sed 's/^  --//' \
          | grep -vxE 'help|version' | sort | tr '\n' ' ' | sed 's/ $//')
    [ "$got" = "$want" ] || fail "$cmd $sub --help lists: $got; expected: $want"
    grep -q "^  mesoctl $cmd $sub --" <<<"$out" || fail "$cmd $sub --help: no example line"
    grep -q "env $var" <<<"$out" || fail "$cmd $sub --help: $var is not shown"
    "$M" "$cmd" --help | grep -qE "^  $sub  +[a-z]" || fail "$cmd --help does not list $sub"
done

# Every command in "mesoctl --help".
for c in health migrate keys access events patient screening consent inventory scheduling billing reports; do
    "$M" --help | grep -qE "^  $c +[a-z]" || fail "mesoctl --help does not list $c"
done

# A subcommand's help is its own: no option of a sibling.
"$M" scheduling course --help | grep -q -- '--grade' && fail "scheduling course --help shows --grade"
"$M" inventory receive --help | grep -q -- '--days' && fail "inventory receive --help shows --days"

# Usage errors stay usage errors (exit 2), --help is not one (exit 0).
set +e
"$M" inventory >/dev/null 2>&1; [ $? -eq 2 ] || fail "mesoctl inventory: exit status not 2"
"$M" inventory bogus >/dev/null 2>&1; [ $? -eq 2 ] || fail "mesoctl inventory bogus: exit status not 2"
"$M" inventory receive --bogus >/dev/null 2>&1; [ $? -eq 2 ] || fail "unknown option: exit status not 2"
"$M" scheduling --version | grep -q '^mesoctl scheduling ' || fail "mesoctl scheduling --version"
# The old shared tables' flags still parse: the command gets as far as the
# endpoint, which is refused (after finding its keys: a folder made here).
KEYS=$(mktemp -d)
trap 'rm -rf "$KEYS"' EXIT
"$M" keys init --dir "$KEYS" --names operator,scheduling,billing >/dev/null || fail "mesoctl keys init failed"
export MESO_KEYS=$KEYS
# Refused before anything is written: an access command's usage errors.
"$M" access add --name x --roles nurse --clinics all --db 'host=/nonexistent' >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "access add with an unknown role: exit status $rc, not 2"
err=$("$M" access add --name x --roles front_desk --db 'host=/nonexistent' 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q 'clinics is required' <<<"$err" || fail "access add of a person without --clinics: $err"
err=$("$M" scheduling course --grade 2 --clinic x --endpoint nope 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q 'no usable endpoint' <<<"$err" || fail "scheduling course no longer takes --grade: $err"
err=$("$M" scheduling --json --endpoint nope course --patient p 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q 'no usable endpoint' <<<"$err" || fail "scheduling: options before the subcommand: $err"
err=$("$M" billing package show --patient p --key k --endpoint nope 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q 'cannot use endpoint' <<<"$err" || fail "billing package show no longer takes --patient: $err"
set -e

[ $fails -eq 0 ] || { echo "$fails failure(s)" >&2; exit 1; }
echo "mesoctl help: ${#EXPECT[@]} subcommands checked"
