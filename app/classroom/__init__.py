"""Classroom sessions: a teacher starts a class, students join it by a short code and follow the
teacher's lab views; the class board gathers the students' runs and the teacher asks questions.

Not a lab: it reads the labs' fields (to compute ready-made questions about a view) and the runs
(app.runs), and no lab imports it. The base page shows its class bar through one template
global (`classroom`), registered by app.main.
"""
