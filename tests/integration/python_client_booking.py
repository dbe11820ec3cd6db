#!/usr/bin/python3
"""python_client_booking.py -- books a course end to end with the Python
client (clients/python/meso_client.py) only, against real daemons over
CURVE; run by tests/integration/test_python_client.c, which starts the
daemons and checks the database afterwards.

As the operator key (--admin-key): a clinic open every day 08:00-20:00,
a practitioner, a room, the consent text, two ingredients, the recipe
"lipo" and stock. As a front-desk person limited to that clinic (--key):
register a patient, record a clean screening (grade 2, thighs), sign the
consent, plan a course, book it, read it back; an invalid booking (grade
0) must raise MesoError INVALID_ARGUMENT naming spec.grade, and a retry
of the booking with its idempotency key must return the same course.
Writes "<patient id> <course id> <sessions booked>" to --out.
"""
import argparse
import datetime
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "clients", "python"))
import meso_client  # noqa: E402

CLINIC = "py-clinic"


def main():
    ap = argparse.ArgumentParser()
    for name in ("keys", "admin-key", "key", "screening", "scheduling", "inventory", "out"):
        ap.add_argument("--" + name, required=True)
    a = ap.parse_args()
    endpoints = {"screening": a.screening, "scheduling": a.scheduling, "inventory": a.inventory}
    admin = meso_client.Client(key=a.admin_key, keys=a.keys, endpoints=endpoints)
    desk = meso_client.Client(key=a.key, keys=a.keys, endpoints=endpoints)
    t = admin.types

    # The clinic, its people, its consent text, its recipe and stock.
    hours = [t.DayHours(weekday=d, opens="08:00", closes="20:00") for d in range(1, 8)]
    admin.scheduling.UpsertClinic(clinic=t.Clinic(clinic_id=CLINIC, name="Python clinic",
                                                  time_zone="Europe/Paris", hours=hours))
    admin.scheduling.UpsertPractitioner(practitioner=t.Practitioner(
        practitioner_id="dr-py", name="Dr Py",
        clinics=[t.PractitionerClinic(clinic_id=CLINIC, hours=hours)]))
    admin.scheduling.UpsertRoom(room=t.Room(clinic_id=CLINIC, room_id="room-py", name="Room",
                                            active=True))
    admin.screening.SetConsentText(clinic_id=CLINIC, treatment="body_mesotherapy",
                                   text="I consent to mesotherapy of the body (Python test).")
    for code in ("caffeine", "l_carnitine"):
        admin.inventory.UpsertIngredient(ingredient=t.Ingredient(code=code, name=code, unit=t.UNIT_MG))
    admin.inventory.UpsertRecipe(recipe_id="lipo", name="Lipolytic", lines=[
        t.RecipeLine(area="thighs", ingredient_code="caffeine", amount_milli=100000),
        t.RecipeLine(area="thighs", ingredient_code="l_carnitine", amount_milli=50000)])
    expiry = (datetime.date.today() + datetime.timedelta(days=700)).isoformat()
    for code, lot in (("caffeine", "CAF-PY"), ("l_carnitine", "LC-PY")):
        admin.inventory.Receive(clinic_id=CLINIC, ingredient_code=code, lot_number=lot,
                                expiry_date=expiry, quantity_milli=100000000)

    # The front desk: a patient, screened, consenting.
    reg = desk.screening.RegisterPatient(patient=t.Patient(
        given_name="Lucia", family_name="Python", birth_date="1991-03-02",
        sex=t.SEX_FEMALE, home_clinic_id=CLINIC))
    patient = reg.patient.id
    assert patient, reg
    no = t.ANSWER_NO
    answers = t.Questionnaire(
        pregnancy=no, breastfeeding=no, diabetes=no, active_infection=no, septicaemia=no,
        immunocompromised=no, liver_failure=no, kidney_failure=no, coagulation_disorder=no,
        menstrual_disorder=no, cancer=no, heart_arrhythmia=no, blood_clots=no,
        height_mm=1680, weight_g=64000, areas=[t.AreaGrade(area="thighs", grade=2)])
    desk.screening.RecordScreening(patient_id=patient, clinic_id=CLINIC, answers=answers)
    desk.screening.SignConsent(patient_id=patient, clinic_id=CLINIC,
                               treatment="body_mesotherapy", version=1, witness="Nurse Py")

    # Plan, then book the course the plan shows.
    first = (datetime.date.today() + datetime.timedelta(days=2)).isoformat()
    spec = t.CourseSpec(clinic_id=CLINIC, patient_id=patient, grade=2, areas=["thighs"],
                        first_date=first, preferred_time="10:00", recipe_id="lipo")
    plan = desk.scheduling.PlanCourse(spec=spec)
    assert isinstance(plan, t.PlanCourseReply), type(plan)
    assert plan.complete and len(plan.sessions) >= 2, plan
    key = f"py-book-{patient}"
    booked = desk.scheduling.BookCourse(t.BookCourseRequest(spec=spec), idempotency_key=key)
    assert isinstance(booked, t.BookCourseReply), type(booked)
    course = booked.course
    assert course.course_id and course.patient_id == patient and course.clinic_id == CLINIC
    got = [(s.local_start, s.practitioner_id, s.room_id) for s in course.sessions]
    want = [(s.local_start, s.practitioner_id, s.room_id) for s in plan.sessions]
    assert got == want, (got, want)
    assert all(s.status == t.SESSION_STATUS_BOOKED for s in course.sessions), course.sessions
    assert course.sessions[0].local_start.startswith(first), course.sessions[0]

    # A retry with the same key is the same booking, not a second one.
    again = desk.scheduling.BookCourse(spec=spec, idempotency_key=key)
    assert again.course.course_id == course.course_id, (again.course.course_id, course.course_id)

    # Read back through another method.
    read = desk.scheduling.GetCourse(course_id=course.course_id)
    assert [s.appointment_id for s in read.courses[0].sessions] == \
        [s.appointment_id for s in course.sessions], read

    # An invalid request raises, naming the field.
    bad = t.CourseSpec()
    bad.CopyFrom(spec)
    bad.grade = 0
    try:
        desk.scheduling.BookCourse(spec=bad)
        raise AssertionError("grade 0 was booked")
    except meso_client.MesoError as e:
        assert e.status_name == "INVALID_ARGUMENT", e
        assert e.method == "scheduling.BookCourse", e
        assert "spec.grade" in [r.field for r in e.reasons], e.reasons
        print(f"refused as expected: {e}")
    # A type that is not the rpc's input is refused before anything is sent.
    try:
        desk.scheduling.BookCourse(t.PlanCourseRequest(spec=spec))
        raise AssertionError("a PlanCourseRequest was sent as BookCourse")
    except TypeError:
        pass

    with open(a.out, "w") as f:
        f.write(f"{patient} {course.course_id} {len(course.sessions)}\n")
    print(f"ok: course {course.course_id} of {len(course.sessions)} sessions booked for {patient}")
    admin.close()
    desk.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
