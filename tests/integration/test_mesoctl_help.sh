#!/usr/bin/env bash
# test_mesoctl_help.sh -- every subcommand of mesoctl has its own --help:
# its usage, exactly its own options (with the common ones: --endpoint,
# --json, --key where it mutates, --timeout for inventory), and an example;
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
  "screening|record|allergies areas clinic diet early_stage_cellulite endpoint exercise file height-mm json key last-nsaid localised_fat_deposits medications no patient weight-g yes"
  "screening|show|endpoint history json patient"
  "screening|check|clinic date endpoint ingredients json patient"
  "consent|text-set|clinic endpoint file json key text treatment"
  "consent|text-show|clinic endpoint json text-version treatment"
  "consent|sign|clinic endpoint json key patient sha256 text-version treatment witness"
  "consent|list|clinic endpoint json patient treatment"
  "inventory|receive|clinic cost endpoint expiry ingredient json key lot qty supplier timeout"
  "inventory|stock|all clinic endpoint ingredient json timeout"
  "inventory|transfer|endpoint from json lot-id qty reason timeout to"
  "inventory|recall|clinic endpoint ingredient json key lot lot-id reason timeout"
  "inventory|at-risk|clinic endpoint from json timeout"
  "inventory|hold|appointment clinic endpoint json timeout"
  "inventory|forecast|clinic days endpoint json timeout"
  "inventory|ingredient|code endpoint form json key name timeout unit"
  "inventory|ingredients|after codes endpoint json limit timeout"
  "inventory|recipe|endpoint json key lines name recipe timeout"
  "scheduling|clinic|clinic days endpoint hours json key name overlapping-courses slot zone"
  "scheduling|practitioner|clinic days endpoint hours json key name practitioner"
  "scheduling|room|clinic endpoint json key name room"
  "scheduling|plan|areas clinic endpoint first grade json maintenance mild patient practitioner recipe sessions time"
  "scheduling|book|areas clinic endpoint first grade json key maintenance mild patient practitioner recipe sessions time"
  "scheduling|course|course endpoint json patient"
  "scheduling|reschedule|appointment at endpoint json key practitioner room"
  "scheduling|cancel|appointment by endpoint json key reason"
  "scheduling|start|appointment endpoint json key"
  "scheduling|complete|appointment endpoint json key score"
  "scheduling|no-show|appointment endpoint json key"
  "billing|prices set|clinic currency endpoint from json key prices"
  "billing|prices show|clinic date endpoint json"
  "billing|fees|clinic endpoint json key late-cancel no-show"
  "billing|package sell|clinic endpoint expires json key patient price sessions"
  "billing|package show|clinic endpoint json package"
  "billing|invoice|amount areas clinic date description endpoint json key patient tax-category"
  "billing|pay|amount clinic currency endpoint invoice json key method patient reference"
  "billing|refund|amount clinic endpoint invoice json key payment reason"
  "billing|statement|clinic endpoint json patient"
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
    # The service's --help lists the subcommand with a summary.
    "$M" $svc --help | grep -qE "^  $sub  +[a-z]" || fail "$svc --help does not list $sub"
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
