"""How a check works: run the student's function on cases, compare, diagnose, say so.

An ``Exercise`` holds its cases (the inputs), the library's answer for each, and a table of
``Mistake`` rows: each names a classic mistake, says how to recognise its output (usually by
computing what that mistake returns, from the inputs and the correct answer) and what to
tell the student. ``run`` runs the student's function on every case, then holds the outputs
that came out wrong against each row of the table: the first row that explains them all
gives the message. Nothing from the library's code is ever shown; only its numbers, when no
mistake of the table fits. An error in the student's code is one line (its type, its
message, the case, the student's line), never a traceback.
"""
from __future__ import annotations

import copy
import linecache
import traceback
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


@dataclass
class Case:
    """One input for the student's function, with a label that says what it is."""

    label: str                       # e.g. "10 x 100 float32 scores, one-hot targets"
    args: tuple                      # the arguments; every call gets a deep copy
    tags: frozenset = frozenset()    # e.g. {"shifted"}: scores near +1e4 (overflow)
    rtol: float = 1e-6               # tolerances for comparing with the right answer
    atol: float = 1e-9


def float_case(label: str, args: tuple, dtype, scale: float = 1.0, tags=()) -> Case:
    """A case whose tolerances fit its float type and the size of its inputs: a float32 score
    near 1e4 is only known to about 1e-3, and another correct order of operations rounds
    otherwise, by that much."""
    eps = float(np.finfo(dtype).eps)
    return Case(label, args, frozenset(tags), rtol=max(1000 * eps, 1e-9),
                atol=16 * eps * max(1.0, scale))


@dataclass
class Mistake:
    """A classic mistake: ``name`` says which, ``test(case, got, right)`` recognises its
    output, and ``message`` tells the student (a sentence or two)."""

    name: str
    test: Callable[[Case, Any, Any], bool]
    message: str


def gives(wrong: Callable[..., Any]) -> Callable[[Case, Any, Any], bool]:
    """A test for a mistake whose output ``wrong(*case.args, right)`` we can compute: the
    student's output is that (and not the right answer)."""
    def test(case: Case, got, right) -> bool:
        with np.errstate(all="ignore"):
            expected = wrong(*fresh(case.args), right)
        return expected is not None and same(got, expected, case)
    return test


def not_finite_on(tag: str) -> Callable[[Case, Any, Any], bool]:
    """A test for a numerical mistake: on the cases tagged ``tag`` the output has infinities
    or NaNs where the right answer is finite."""
    def test(case: Case, got, right) -> bool:
        if tag not in case.tags:
            return False
        pairs = zip(got, right) if isinstance(right, list) else [(got, right)]
        return any(np.shape(g) == np.shape(r) and not np.isfinite(as_float(g)).all()
                   and np.isfinite(r).all() for g, r in pairs)
    return test


@dataclass
class Exercise:
    """One exercise: a library function the student writes again.

    ``answer(*args)`` is the library's function (the solution), ``cases()`` the inputs,
    ``mistakes`` the table of classic mistakes, ``output`` the kind of value it returns
    (``"array"``, ``"number"`` or a tuple of part names for a list of arrays, like
    ``("dW", "db")``). ``call`` (optional) runs the student's function on a case and returns
    what to compare (``train`` compares the list it updated, not what it returns).
    ``judge`` (optional) replaces the comparison and diagnosis altogether, for an answer
    that is random (dropout): it returns a message (starting "on <case>:" when it is about
    one case), or None when all is well.
    """

    name: str
    signature: str
    answer: Callable[..., Any]
    cases: Callable[[], list]
    mistakes: list = field(default_factory=list)
    output: Any = "array"
    call: Callable[[Callable, tuple], Any] | None = None
    judge: Callable[[Callable], str | None] | None = None
    inputs_may_change: bool = False


# --- running the student's function ------------------------------------------------------

class Raised(Exception):
    """The student's function raised: ``error`` is what, ``where`` the line of their code,
    ``fn_name`` the function's name, ``case`` (set by the caller) the case it was run on."""

    def __init__(self, error: BaseException, where: str, fn_name: str = ""):
        super().__init__(str(error))
        self.error, self.where, self.fn_name = error, where, fn_name
        self.case = ""


def call_student(fn: Callable, args: tuple) -> Any:
    """``fn(*args)``, quietly (no RuntimeWarnings: overflow is diagnosed, not warned about);
    an exception from it becomes ``Raised``, with the line of the student's code it came
    from."""
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args)
    except Exception as error:          # the student's code may raise anything
        raise Raised(error, student_line(error, fn), getattr(fn, "__name__", "")) from None


def student_line(error: BaseException, fn: Callable) -> str:
    """" (line 3: `return y / s`)" for the innermost frame in the file where ``fn`` was
    written (a notebook cell has one too), or "" when there is none."""
    filename = getattr(getattr(fn, "__code__", None), "co_filename", None)
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == filename]
    if not frames:
        return ""
    frame = frames[-1]
    text = frame.line or linecache.getline(frame.filename, frame.lineno or 0)
    text = text.split("  #")[0].strip()
    return f" (line {frame.lineno}: `{text}`)" if text else f" (line {frame.lineno})"


def fresh(args: tuple) -> tuple:
    """A deep copy of the arguments, so that no call sees what another changed."""
    return copy.deepcopy(args)


# --- comparing ---------------------------------------------------------------------------

def as_float(value) -> np.ndarray:
    """``value`` as a float array for comparisons (a bool or int array too)."""
    return np.asarray(value, dtype=np.float64)


def same(got, expected, case: Case) -> bool:
    """Whether two outputs agree: equal shapes and values within the case's tolerances
    (NaN nowhere); lists entry by entry."""
    if isinstance(expected, (list, tuple)):
        return (isinstance(got, (list, tuple)) and len(got) == len(expected)
                and all(same(g, e, case) for g, e in zip(got, expected)))
    try:
        g, e = as_float(got), as_float(expected)
    except (TypeError, ValueError):
        return False
    return g.shape == e.shape and bool(np.allclose(g, e, rtol=case.rtol, atol=case.atol))


def describe_value(value) -> str:
    """A short description of a value's kind: "None", "a list", "a float64 array of shape
    (3, 4)", "the number 0.5"."""
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"a {value.dtype} array of shape {value.shape}"
    if isinstance(value, (int, float, np.number)):
        return f"the number {value:.6g}"
    return f"a {type(value).__name__}"


def shape_of(value) -> tuple:
    """The shape of an array-like value, or () when it has none."""
    return tuple(getattr(value, "shape", np.shape(value)))


def first_difference(got: np.ndarray, right: np.ndarray) -> str:
    """Where two arrays of one shape differ most, in words."""
    diff = np.abs(as_float(got) - as_float(right))
    diff[np.isnan(diff)] = np.inf
    at = np.unravel_index(int(np.argmax(diff)), diff.shape)
    where = f" at index {tuple(int(i) for i in at)}" if diff.ndim else ""
    return f"the largest difference is{where}: {as_float(got)[at]:.6g} where {right[at]:.6g} " \
           f"is right"


# --- the check ---------------------------------------------------------------------------

def run(exercise: Exercise, fn: Callable) -> tuple[bool, str]:
    """Run ``fn`` on the exercise's cases: ``(True, "...")`` when every case agrees with the
    library, else ``(False, what went wrong, and on which case)``.

    Every case is run before the diagnosis, so that a mistake is named only when it explains
    all the cases that came out wrong (on one small case, two mistakes may give the same
    number by chance). An exception stops the run: it is reported unless some case already
    came out wrong, which says more.
    """
    name = exercise.name
    try:
        if exercise.judge is not None:
            problem = exercise.judge(fn)
            if problem:              # "on <case>: ..." reads like the other checks' messages
                return False, f"{name}{', ' if problem.startswith('on ') else ': '}{problem}"
            return True, f"{name}: passed all its cases."
        cases = exercise.cases()
        wrong, other = outcomes(exercise, fn, cases)
    except Raised as raised:
        return False, describe_raised(name, raised)
    if wrong:
        case, message = diagnose(exercise, wrong)
        return False, f"{name}, on {case.label}: {message}"
    if other:
        case, message = other[0]
        return False, f"{name}, on {case.label}: {message}"
    return True, f"{name}: passed all {len(cases)} cases."


def outcomes(exercise: Exercise, fn: Callable, cases: list) -> tuple[list, list]:
    """The cases whose output is wrong, as ``(case, got, right)``, and the problems of those
    whose values are right (a dtype, an input changed in place) as ``(case, message)``. A
    value of the wrong kind (None, a list, ...) ends the run: it is the one problem returned,
    unless a case before it came out wrong."""
    wrong: list = []
    other: list = []
    for case in cases:
        with np.errstate(all="ignore"):
            right = exercise.answer(*fresh(case.args))
        args = fresh(case.args)
        try:
            got = exercise.call(fn, args) if exercise.call else call_student(fn, args)
        except Raised as raised:
            if wrong:
                break
            raised.case = case.label
            raise
        problem = wrong_kind(exercise.output, got, right)
        if problem:
            if wrong:
                break
            return [], [(case, problem)]
        if not same(got, right, case):
            wrong.append((case, got, right))
            continue
        problem = wrong_dtype(exercise.output, got, right)
        if problem is None and not exercise.inputs_may_change and not same(args, case.args, case):
            problem = ("the output is right, but your function changed its input arrays in "
                       "place (like y -= ...); the caller's data would change too: compute new "
                       "arrays.")
        if problem:
            other.append((case, problem))
    return wrong, other


def diagnose(exercise: Exercise, wrong: list) -> tuple[Case, str]:
    """The message for outputs that came out wrong, ``[(case, got, right), ...]``: the first
    mistake of the table that explains every one of them, else the first that explains the
    first, else what is wrong with the first (its shape, infinities, values)."""
    def explains(mistake: Mistake, case: Case, got, right) -> bool:
        try:
            return bool(mistake.test(case, got, right))
        except Exception:           # a mistake that cannot be computed on this case
            return False
    first = wrong[0]
    for candidates in (wrong, wrong[:1]):
        for mistake in exercise.mistakes:
            if all(explains(mistake, *outcome) for outcome in candidates):
                return first[0], mistake.message
    case, got, right = first
    return case, wrong_numbers(exercise.output, got, right)


def parts(output, got, right) -> list:
    """``(part name, got, right)`` for each array of the output."""
    if isinstance(output, tuple):
        return list(zip(output, got, right))
    return [("the output", got, right)]


def wrong_kind(output, got, right) -> str | None:
    """A message when ``got`` is not the kind of value asked for (None, a list, ...)."""
    if got is None:
        return "your function returned None: is a `return` missing?"
    if output == "number":
        numeric = isinstance(got, (int, float, np.number, np.ndarray)) and \
            np.asarray(got).dtype.kind in "biuf"
        if not numeric or np.ndim(got) != 0:
            return f"returned {describe_value(got)}; it should return one number."
        return None
    if isinstance(output, tuple):
        names = ", ".join(output)
        if not isinstance(got, (list, tuple)) or len(got) != len(output):
            return f"returned {describe_value(got)}; it should return [{names}], a list of " \
                   f"{len(output)} arrays."
    for name, g, r in parts(output, got, right):
        if isinstance(g, (list, tuple)):
            return f"{name} is a {type(g).__name__}; make it a numpy array (np.array(...)), " \
                   f"of shape {r.shape}."
        if not isinstance(g, np.ndarray):
            return f"{name} is {describe_value(g)}; it should be an array of shape {r.shape}."
        if g.dtype.kind not in "biuf":
            return f"{name} is an array of {g.dtype}; it should hold {r.dtype} numbers."
    return None


def wrong_dtype(output, got, right) -> str | None:
    """A message when the values are right but an array's dtype is not."""
    if output == "number":
        return None
    for name, g, r in parts(output, got, right):
        if g.dtype != r.dtype:
            return (f"the values are right, but {name} is {g.dtype} where {r.dtype} is right; "
                    f"keep the inputs' float type (np.zeros without dtype=, or a float64 "
                    f"array constant, converts).")
    return None


def wrong_numbers(output, got, right) -> str:
    """A message for an output that is wrong in no way the table knows: shape, infinities,
    or the largest difference."""
    if output == "number":
        return f"returned {float(got):.6g}, where {float(right):.6g} is right."
    for name, g, r in parts(output, got, right):
        if shape_of(g) != shape_of(r):
            return f"{name} has shape {shape_of(g)}, where {shape_of(r)} is right."
        if not np.isfinite(as_float(g)).all() and np.isfinite(r).all():
            return f"{name} has inf or NaN entries, where the right answer is finite."
        if not np.allclose(as_float(g), as_float(r), rtol=1e-3, atol=1e-6):
            return f"{name} is not right: {first_difference(g, r)}."
    return "the output is close to the right one, but not within the tolerance of this case."


def describe_raised(name: str, raised: Raised) -> str:
    """One or two lines about an exception from the student's code."""
    error = raised.error
    if isinstance(error, NotImplementedError):
        inner = traceback.extract_tb(error.__traceback__)[-1].name
        if raised.fn_name not in (inner, "<lambda>"):
            return f"{name} calls {inner}, which is not written yet (it raises " \
                   f"NotImplementedError): write {inner} first."
        return f"{name}: not written yet (it raises NotImplementedError). Write its body, " \
               f"then run this cell again."
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    text = text if len(text) <= 160 else text[:157] + "..."
    on = f" on {raised.case}" if raised.case else ""
    return f"{name} raised {type(error).__name__}{': ' + text if text else ''}{on}{raised.where}."
