#!/usr/bin/env python3
"""trace_to_pgbench.py -- turns the trace of one booking printed by
trace_booking.sh into the body of tests/bench/booking.pgbench.

Every statement is kept as the daemon sent it, with its parameters written
in as the values of the trace, except the values that name this booking,
which become the pgbench client's own (so that clients never conflict and
every run books anew):

  the daemon client's clinic bc<i>, practitioner and room  -> 'gc'/'gp'/'gr' || :c
  the patient, the lot                                      -> :pid, :lot
  the course, the appointment, the keys                     -> 'pgb-course-'/'pgb-appt-'/'pgb-' || :n,
                                                                'pgb-reserve-' || :n
  the appointment's start and end (microseconds)            -> 2030-01-01 + n hours, one hour long

The statements the daemons send in one pipeline (meso_db_pipeline) are put
between \\startpipeline and \\endpipeline: a group starts at a statement
whose text begins with one of PIPELINE_HEADS and has that many statements.

  python3 tests/bench/trace_to_pgbench.py TRACE > body.pgbench
"""
import re
import sys

# First statement of each pipeline (a prefix of its text) -> its length.
PIPELINE_HEADS = [
    ("SELECT h.latest, r.version", 3),                         # inventory.GetRecipe
    ("SELECT p.id, coalesce (p.given_name", 4),                # screening.Check
    ("SELECT clinic_id, appointment_id, patient_id, session_date::text", None),  # see below
    ("SELECT course_id, clinic_id, patient_id, grade", 3),     # the saga's final step
]

entries = []
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if line.startswith("--"):
        continue
    m = re.match(r"^\d+ \| (.*)$", line)
    if m:
        entries.append([m.group(1), {}])
        continue
    m = re.match(r"^\s+parameters: (.*)$", line)
    if m and entries:
        for num, val in re.findall(r"\$(\d+) = (NULL|'(?:[^']|'')*')", m.group(1)):
            entries[-1][1][int(num)] = None if val == "NULL" else val[1:-1].replace("''", "'")

def first_param(prefix, num):
    for stmt, params in entries:
        if stmt.startswith(prefix):
            return params.get(num)
    sys.exit("trace_to_pgbench: no statement starting with %r" % prefix)

clinic = first_param("SELECT clinic_id, name, time_zone", 1)
slot = [e for e in entries if e[0].startswith("WITH u AS (SELECT $2::timestamp")][0][1]
course = first_param("INSERT INTO scheduling.course", 2)
appt = first_param("INSERT INTO scheduling.appointment", 2)
patient = first_param("INSERT INTO scheduling.appointment", 4)
key = first_param("INSERT INTO scheduling.course", 10)
start_us = first_param("INSERT INTO scheduling.appointment", 7)
end_us = first_param("INSERT INTO scheduling.appointment", 8)
lot = first_param("INSERT INTO inventory.reservation_line", 3)
names = {
    clinic: "('gc' || :c)", slot[4]: "('gp' || :c)", slot[5]: "('gr' || :c)",
    patient: ":pid", lot: ":lot",
    course: "('pgb-course-' || :n)", appt: "('pgb-appt-' || :n)",
    key: "('pgb-' || :n)", "scheduling-reserve-" + appt: "('pgb-reserve-' || :n)",
    start_us: "(1893456000000000 + :n * 3600000000)",
    end_us: "(1893459600000000 + :n * 3600000000)",
}

def literal(v):
    if v is None:
        return "NULL"
    if v in names:
        return names[v]
    # pgbench reads ":word" as a variable, even inside quotes.
    q = "'" + v.replace("'", "''") + "'"
    return "(" + q.replace(":", "' || chr(58) || '") + ")" if ":" in v else q

out = []
for stmt, params in entries:
    sql = stmt.replace("HH24:MI", "HH24' || chr(58) || 'MI")
    sql = re.sub(r"\$(\d+)", lambda m: literal(params[int(m.group(1))]), sql)
    out.append((stmt, sql.rstrip(";") + ";"))

i = 0
while i < len(out):
    stmt, sql = out[i]
    n = 0
    for head, size in PIPELINE_HEADS:
        if stmt.startswith(head):
            n = size
            if size is None:
                # inventory.Reserve's first reads (the reservation, the
                # recipe, the needs) or its read-back (the reservation and
                # its three kinds of lines).
                nxt = out[i + 1][0] if i + 1 < len(out) else ""
                n = 3 if nxt.startswith("SELECT h.latest") else 4
    if n > 1:
        print("\\startpipeline")
        for _, s in out[i:i + n]:
            print(s)
        print("\\endpipeline")
        i += n
    else:
        print(sql)
        i += 1
