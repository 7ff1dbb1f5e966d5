"""A class in the store (app.store): its record, its students, the teacher's current view and
its questions. Every key expires with the class; the store has no pub/sub, so what changes (the
view, the question) carries a version that the web processes poll (app.classroom.events).

Keys of class `code`:
- `class:<code>`: the record (JSON): the teacher token's digest, when it started and expires;
- `class:<code>:joins`: a counter, the ticket of each join (the students' order, and the cap);
- `class:<code>:students`: sorted set, student id -> ticket;
- `class:<code>:student:<id>`: the student (JSON): nickname, run-owner digest, when joined;
- `class:<code>:nick:<digest>`: a counter per nickname (trimmed, case folded), whose first
  increment claims it; sorted set `class:<code>:nicks` lists them, so that they go with the class;
- `class:<code>:live`: what the students follow (JSON): the view's URL and version, the
  current question's id and version;
- `class:<code>:q:<id>`: a question (JSON); `class:<code>:q:<id>:answers`: sorted set,
  student id -> the answer (an option's index, or the number given).
Sorted set `classes`: code -> expiry, so that an expired class's sorted sets are swept too.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import asdict, dataclass, field

from app.store.base import Store
from app.web.errors import UserError
from app.web.i18n import N_

# No 0/O or 1/I: a code read off a projector is typed without doubt.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
TOKEN_BYTES = 16


class NicknameTaken(UserError):
    """Another student of the class has this nickname (compared trimmed, in any case)."""

    def __init__(self, nickname: str) -> None:
        super().__init__(N_("Someone in this class already has the nickname “%(name)s”: choose "
                            "another one (add a letter or a number, for example)."), status=409,
                         name=nickname)  # fmt: skip


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_hex(TOKEN_BYTES)


def is_code(text: str) -> bool:
    return len(text) == CODE_LENGTH and all(c in CODE_ALPHABET for c in text)


def normal_code(text: str) -> str:
    """A code as typed ("abc 234", "ab-c234") as the class knows it ("ABC234")."""
    return "".join(c for c in text.upper() if c.isalnum())[: CODE_LENGTH * 2]


@dataclass
class ClassRecord:
    code: str
    teacher: str  # digest of the teacher's token
    created: float
    expires: float

    @property
    def remaining(self) -> float:
        return self.expires - time.time()


@dataclass
class Student:
    id: str
    nickname: str
    owner: str  # the browser's run-owner digest (app.runs.owner): its runs are its own
    joined: float


@dataclass
class Live:
    """What the followers follow."""

    view: str = ""  # the teacher's lab URL (path and query), "" before the first
    view_version: int = 0
    question: str = ""  # the current question's id, "" for none
    question_version: int = 0


@dataclass
class Question:
    id: str
    kind: str  # "choice" or "number"
    text: str  # the teacher's own words (data), or a msgid when `ready`
    ready: bool = False  # a lab's ready-made question: text and options are msgids
    params: dict = field(default_factory=dict)  # the msgid's fields
    options: list[dict] = field(default_factory=list)  # {"text": ..., "params": {...}}
    answer: float | None = None  # the right option's index, or the number; None: no answer
    tolerance: float = 0.0  # a number question: answers this close count as right
    explanation: str = ""  # a ready-made answer's working (msgid), shown on reveal
    explanation_params: dict = field(default_factory=dict)
    view: str = ""  # the view it is about
    revealed: bool = False
    asked: float = 0.0


def _json(value) -> bytes:
    return json.dumps(asdict(value), separators=(",", ":")).encode()


class Classes:
    """The classes of one store."""

    def __init__(self, store: Store, ttl: float, max_students: int, max_classes: int = 200,
                 max_questions: int = 100) -> None:  # fmt: skip
        self.store = store
        self.ttl = ttl
        self.max_students = max_students
        self.max_classes = max_classes
        self.max_questions = max_questions

    # --- a class ---------------------------------------------------------------------------

    def start(self) -> tuple[ClassRecord, str]:
        """A new class and its teacher's token (kept only as a digest); a UserError (503) when
        the server holds as many live classes as it may."""
        self._sweep()
        if self.store.zcard("classes") >= self.max_classes:
            raise UserError(
                N_("This server already holds %(n)s classes, the most it keeps at once. Ask "
                   "a teacher to end a class, or try again when one expires."),
                status=503, n=self.max_classes,
            )  # fmt: skip
        token = new_token()
        now = time.time()
        for _ in range(20):  # 32^6 codes: a clash with a live class is rare, never kept
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            if self.store.get(f"class:{code}") is None:
                break
        record = ClassRecord(code, digest(token), now, now + self.ttl)
        self.store.set(f"class:{code}", _json(record), ttl=self.ttl)
        self.store.set(f"class:{code}:joins", b"0", ttl=self.ttl)  # incr keeps this expiry
        self.store.set(f"class:{code}:live", _json(Live()), ttl=self.ttl)
        self.store.zadd("classes", code, record.expires)
        return record, token

    def get(self, code: str) -> ClassRecord | None:
        if not is_code(code):
            return None
        data = self.store.get(f"class:{code}")
        if data is None:
            return None
        record = ClassRecord(**json.loads(data))
        return record if record.remaining > 0 else None

    def is_teacher(self, record: ClassRecord, token: str) -> bool:
        return bool(token) and secrets.compare_digest(digest(token), record.teacher)

    def end(self, code: str) -> None:
        """The class and all it holds, gone at once."""
        ids = [member for member, _ in self.store.zrange(f"class:{code}:students")]
        questions = [member for member, _ in self.store.zrange(f"class:{code}:questions")]
        nicks = [member for member, _ in self.store.zrange(f"class:{code}:nicks")]
        keys = [f"class:{code}", f"class:{code}:joins", f"class:{code}:live"]
        keys += [f"class:{code}:nick:{n}" for n in nicks]
        keys += [f"class:{code}:student:{i}" for i in ids]
        keys += [f"class:{code}:q:{q}" for q in questions]
        self.store.delete(*keys)
        for q in questions:
            answers = f"class:{code}:q:{q}:answers"
            self.store.zrem(answers, *[m for m, _ in self.store.zrange(answers)])
        self.store.zrem(f"class:{code}:students", *ids)
        self.store.zrem(f"class:{code}:nicks", *nicks)
        self.store.zrem(f"class:{code}:questions", *questions)
        self.store.zrem("classes", code)

    def _sweep(self) -> None:
        for code, _ in self.store.zrange("classes", high=time.time(), limit=50):
            self.end(code)

    # --- students --------------------------------------------------------------------------

    def join(self, record: ClassRecord, nickname: str, owner: str) -> tuple[Student, str] | None:
        """A new student and their token, or None when the class is full; NicknameTaken when
        another student of the class has that nickname, whatever its case. Atomic counters
        decide when many join at once: the nickname's first claim wins it, and the join's
        ticket decides who is in (a refused nickname takes no ticket)."""
        nick = digest(nickname.casefold())[:24]
        nick_key = f"class:{record.code}:nick:{nick}"
        if self.store.incr(nick_key) > 1:
            raise NicknameTaken(nickname)
        self.store.zadd(f"class:{record.code}:nicks", nick, time.time())
        token = new_token()
        student = Student(digest(token)[:24], nickname, owner, time.time())
        ticket = self.store.incr(f"class:{record.code}:joins")
        if ticket > self.max_students:
            self.store.delete(nick_key)  # not in the class: the nickname is free again
            return None
        ttl = max(1.0, record.remaining)
        self.store.set(f"class:{record.code}:student:{student.id}", _json(student), ttl=ttl)
        self.store.zadd(f"class:{record.code}:students", student.id, ticket)
        return student, token

    def student(self, code: str, token: str) -> Student | None:
        if not token:
            return None
        data = self.store.get(f"class:{code}:student:{digest(token)[:24]}")
        return Student(**json.loads(data)) if data else None

    def student_count(self, code: str) -> int:
        return self.store.zcard(f"class:{code}:students")

    def students(self, code: str) -> list[Student]:
        found = []
        for student_id, _ in self.store.zrange(f"class:{code}:students"):
            data = self.store.get(f"class:{code}:student:{student_id}")
            if data:
                found.append(Student(**json.loads(data)))
        return found

    # --- what the followers follow -----------------------------------------------------------

    def live(self, code: str) -> Live | None:
        data = self.store.get(f"class:{code}:live")
        return Live(**json.loads(data)) if data else None

    def _save_live(self, record: ClassRecord, live: Live) -> None:
        self.store.set(f"class:{record.code}:live", _json(live), ttl=max(1.0, record.remaining))

    def set_view(self, record: ClassRecord, url: str) -> Live:
        live = self.live(record.code) or Live()
        if live.view != url:
            live.view, live.view_version = url, live.view_version + 1
            self._save_live(record, live)
        return live

    # --- questions -------------------------------------------------------------------------

    def ask(self, record: ClassRecord, question: Question) -> Question:
        if self.store.zcard(f"class:{record.code}:questions") >= self.max_questions:
            raise UserError(N_("A class holds at most %(n)s questions."), status=409,
                            n=self.max_questions)  # fmt: skip
        question.id = secrets.token_hex(4)
        question.asked = time.time()
        self._save_question(record, question)
        self.store.zadd(f"class:{record.code}:questions", question.id, question.asked)
        live = self.live(record.code) or Live()
        live.question, live.question_version = question.id, live.question_version + 1
        self._save_live(record, live)
        return question

    def _save_question(self, record: ClassRecord, question: Question) -> None:
        key = f"class:{record.code}:q:{question.id}"
        self.store.set(key, _json(question), ttl=max(1.0, record.remaining))

    def question(self, code: str, question_id: str) -> Question | None:
        if not question_id or not question_id.isalnum() or len(question_id) > 16:
            return None
        data = self.store.get(f"class:{code}:q:{question_id}")
        return Question(**json.loads(data)) if data else None

    def reveal(self, record: ClassRecord, question: Question) -> None:
        question.revealed = True
        self._save_question(record, question)
        self._bump_question(record, question.id)

    def close_question(self, record: ClassRecord) -> None:
        self._bump_question(record, "")

    def _bump_question(self, record: ClassRecord, question_id: str) -> None:
        live = self.live(record.code) or Live()
        live.question, live.question_version = question_id, live.question_version + 1
        self._save_live(record, live)

    def answer(self, code: str, question: Question, student: Student, value: float) -> bool:
        """Record the student's answer; False if they had already answered."""
        answers = f"class:{code}:q:{question.id}:answers"
        if self.store.zrank(answers, student.id) is not None:
            return False
        self.store.zadd(answers, student.id, value)
        return True

    def answers(self, code: str, question: Question) -> dict[str, float]:
        return dict(self.store.zrange(f"class:{code}:q:{question.id}:answers"))
