#!/usr/bin/env bash
# layout.sh -- checks the shape rules of DESIGN.md "Layout" on a build:
#   1. no .c file under services/ or common/ is over MESO_LAYOUT_MAX_LINES
#      (700) lines;
#   2. within each executable or library (one CMake object folder), no two
#      files call each other's functions in a circle, directly or through a
#      chain.
#
#   tests/tools/layout.sh SOURCE_DIR BUILD_DIR
#
# The call graph is read from the object files, not guessed from #includes
# (every file of a service includes the service's one header): file A -> B
# when A.o has an undefined symbol that B.o of the same target defines.
# tsort(1) then orders the files and reports "input contains a loop" with
# the files of a circle. Prints each target's edges on failure. Exit 0 when
# both rules hold.
set -euo pipefail
SRC=${1:?usage: layout.sh SOURCE_DIR BUILD_DIR}
BUILD=${2:?usage: layout.sh SOURCE_DIR BUILD_DIR}
MAX=${MESO_LAYOUT_MAX_LINES:-700}
status=0

long=$(cd "$SRC" && find services common -name '*.c' -print0 | xargs -0 wc -l \
       | awk -v max="$MAX" '$2 != "total" && $1 > max {print "  " $2 " (" $1 " lines)"}')
if [ -n "$long" ]; then
    echo "files over $MAX lines (split them by aggregate):"
    echo "$long"
    status=1
fi

# A file's name in the graph: its path inside the target, without .c.o.
s_name() { local r=${1#"$dir"/}; echo "${r%.c.o}"; }

targets=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for dir in "$BUILD"/common/CMakeFiles/*.dir "$BUILD"/services/*/CMakeFiles/*.dir; do
    # Objects whose source still exists (a build folder keeps the objects
    # of files since removed): <target dir>/<path>.c.o is built from
    # <source dir of the target>/<path>.c.
    srcdir=$SRC/${dir#"$BUILD"/}
    srcdir=${srcdir%/CMakeFiles/*}
    objs=()
    while IFS= read -r o; do
        rel=${o#"$dir"/}
        [ -f "$srcdir/${rel%.o}" ] && objs+=("$o")
    done < <(find "$dir" -name '*.c.o' | sort)
    [ ${#objs[@]} -gt 0 ] || continue
    targets=$((targets + 1))
    : > "$tmp/defs"
    for o in "${objs[@]}"; do
        nm --defined-only -g "$o" | awk -v f="$(s_name "$o")" 'NF == 3 {print $3, f}' >> "$tmp/defs"
    done
    : > "$tmp/edges"
    for o in "${objs[@]}"; do
        f=$(s_name "$o")
        echo "$f $f" >> "$tmp/edges"     # every file is a node, even alone
        nm -u "$o" | awk '{print $NF}' | sort -u > "$tmp/undef"
        awk -v f="$f" 'NR == FNR {u[$1] = 1; next} ($1 in u) && $2 != f {print f, $2}' \
            "$tmp/undef" "$tmp/defs" >> "$tmp/edges"
    done
    sort -u "$tmp/edges" -o "$tmp/edges"
    if ! tsort "$tmp/edges" > /dev/null 2> "$tmp/loop"; then
        echo "circle between the files of $(basename "$dir" .dir):"
        sed 's/^/  /' "$tmp/loop"
        echo "  calls (file -> file whose functions it calls):"
        awk '$1 != $2 {print "    " $1 " -> " $2}' "$tmp/edges"
        status=1
    fi
done
if [ "$targets" -eq 0 ]; then
    echo "no object files under $BUILD: build first"
    exit 1
fi
[ $status -eq 0 ] && echo "layout ok: no file over $MAX lines, no circle in $targets targets"
exit $status
