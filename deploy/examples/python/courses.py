#!/usr/bin/python3
"""courses.py -- a patient's courses and sessions, read with meso's Python
client (clients/python/meso_client.py): the smallest integration that
calls a daemon.

    MESO_KEY=people/ana.key_secret MESO_KEYS=.local/keys \\
        /usr/bin/python3 deploy/examples/python/courses.py --patient <id>

The caller's key pair (MESO_KEY, a CZMQ "<name>.key_secret") must be a
registered principal allowed to call scheduling.GetCourse in the
patient's clinic; MESO_KEYS holds scheduling.key, the daemon's public
key; MESO_SCHEDULING_ENDPOINT says where it listens (default
tcp://127.0.0.1:7102); MESO_PY_STUBS names the classes the build made
(build/python), else they are generated from proto/ at start-up.
Exit status 0, or 1 with the daemon's status and message.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "..", "clients", "python"))
import meso_client  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description="A patient's courses, read from Python.")
    ap.add_argument("--patient", required=True, help="the patient's id")
    args = ap.parse_args()
    with meso_client.Client() as client:
        try:
            reply = client.scheduling.GetCourse(patient_id=args.patient)
        except meso_client.MesoError as e:
            print(f"{e.method}: {e.status_name}: {e.message}", file=sys.stderr)
            for r in e.reasons:
                print(f"  {r.field or '-'}: {r.code}: {r.message}", file=sys.stderr)
            return 1
        t = client.contract

        def text(enum, value):
            """An enum value as the lowercase text mesoctl shows ("booked")."""
            name = enum.Name(value) if value in enum.values() else "UNSPECIFIED"
            prefix = "_".join(enum.Name(0).split("_")[:-1]) + "_"
            return name[len(prefix):].lower() if name.startswith(prefix) else name.lower()

        for course in reply.courses:
            print(f"course {course.course_id} at {course.clinic_id}: grade {course.grade}, "
                  f"{', '.join(course.areas)}, {text(t.CourseStatus, course.status)}, {len(course.sessions)} sessions")
            for s in course.sessions:
                print(f"  {s.session_number:2d}  {s.local_start}  {text(t.SessionStatus, s.status):<10} "
                      f"{s.practitioner_id} {s.room_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
