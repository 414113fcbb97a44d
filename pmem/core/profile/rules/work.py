"""What the user does: their job, employer, business, school and field."""

from __future__ import annotations

import re

from pmem.core.profile.rules.engine import Reading, RuleSet, clean
from pmem.core.profile.vocab import (
    ACRONYM_JOBS,
    BUSINESSES,
    FIRST_STINT,
    GREETING,
    JOB_PHRASE,
    JOB_WORDS,
    NOT_YET,
    ORG,
    PLACE,
    is_job,
    is_when,
)

rules = RuleSet()


@rules.search(
    "work.job/new-job-as",
    (
        r"\bi(?: got| found| landed| accepted|'ve got| have got) (?:a |my )?(?:new )?job as (?:a|an) ((?-i:(?:[a-z-]+ ){0,2}[a-z-]+))"
        r"|\bi(?: got| was| have been|'ve been) promoted to (?:a |an )?((?-i:(?:[a-z-]+ ){0,2}[a-z-]+))"
    ),
    examples=["I got a new job as a nurse."],
    counterexamples=["I got promoted to the team."],
)
def _work_job_new_job_as(m: re.Match[str], r: Reading) -> None:
    job = clean(m.group(1) or m.group(2))
    if is_job(job):
        r.add("work", "job", job)


@rules.search(
    "work.job/qualified-as",
    (
        r"\bi (?:have |'ve )?(?:just |finally |recently |now |officially )*(?:qualified|graduated) as (?:a|an) ((?-i:(?:[a-z-]+ ){0,2}?[a-z-]+?))"
        r"(?= (?:last|this|in|on|at|from|after|so|and|but|now|today|yesterday)\b|[.,!;]|$)"
        r"|(?:^|\bi(?:'m| am) )(?:now |finally )?officially (?:a|an) ((?-i:(?:[a-z-]+ ){0,2}?[a-z-]+?))(?= now\b|[.,!;]|$| (?:and|so|but)\b)"
        r"|\bi(?:'m| am) \d{1,3}(?: years old)?, (?:a|an) ((?-i:(?:[a-z-]+ ){0,2}?[a-z-]+?))(?=[.,!;]|$| and\b| (?:at|in|for|with|from)\b)"
    ),
    examples=["I finally qualified as a midwife", "officially a psychologist now"],
    counterexamples=["I graduated as a mature student."],
)
def _work_job_qualified_as(m: re.Match[str], r: Reading) -> None:
    # "I finally qualified as a midwife", "officially a psychologist now", "I am 74, a retired headmaster"
    job = next(g for g in m.groups() if g)
    if is_job(job) and not re.search(r"\b(student|vegetarian|vegan)\b", job, re.I) and not NOT_YET.search(r.s):
        r.add("work", "job", job)


@rules.match(
    "work.job/as-a",
    rf"(?:and |but |so )?as an? ((?-i:[a-z]+(?: [a-z]+)?)|{ACRONYM_JOBS})(?: (?:working|based|living) in {PLACE})?,? (?:i|my|i'm|i've|i'd|me)\b",
    examples=["As a GP working in Tromsø, I often …", "As a writer, my laptop is half my lifeline."],
    counterexamples=["As a mother, I worry a lot."],
)
def _work_job_as_a(m: re.Match[str], r: Reading) -> None:
    if m.group(2) and not is_when(m.group(2)) and (is_job(m.group(1).lower()) or re.fullmatch(ACRONYM_JOBS, m.group(1))):
        r.add("location", "city", m.group(2))  # "As a GP working in Tromsø, I often …"
    if re.fullmatch(ACRONYM_JOBS, m.group(1)):
        r.add("work", "job", m.group(1))
    # "As a writer, my laptop is half my lifeline." (not "as a mother" or "as a kid": a role, not a job)
    job = m.group(1).lower()
    if is_job(job):
        r.add("work", "job", job)


@rules.search(
    "work.employer/work-at",
    rf"\bi (?:now |still |currently |also )?work (?:at|for)\s+{ORG}(?: in {PLACE})?",
    examples=["I work at Arup in Leeds"],
    counterexamples=["She works at Arup in Leeds"],
)
def _work_employer_work_at(m: re.Match[str], r: Reading) -> None:
    r.add("work", "employer", m.group(1))
    if m.group(2) and not is_when(m.group(2)):
        r.add("location", "city", m.group(2))  # "I work at Arup in Leeds"


@rules.search(
    "work.job/im-a",
    rf"(?:\bi(?:'m| am| (?:now |still |currently )?work as)|^(?:{GREETING})?(?:i'?m|i am)\b.*?,? (?:currently "
    rf"|now )?working as) (?:now |currently |still |also )?(?:a|an) ((?-i:(?:[a-z-]+ ){{0,2}}?[a-z-]+?))(?: (?:at"
    rf"|for) {ORG})?(?: (?:in|based in|based out of) {PLACE})?(?:[.,!;]|$| and\b| now\b| (?:at|in|for|with) (?:a|an|the) [a-z])",
    examples=["I'm a librarian"],
    counterexamples=["I am a vegetarian."],
)
def _work_job_im_a(m: re.Match[str], r: Reading) -> None:
    if is_job(m.group(1).lower()) and not re.search(r"\b(fan|bit|lot|big|huge)\b", m.group(1), re.I):
        r.add("work", "job", m.group(1).lower())
        if m.group(2) and not is_when(m.group(2)):
            r.add("work", "school" if m.group(1).lower().endswith("student") else "employer", m.group(2))
        if m.group(3) and not is_when(m.group(3)):
            r.add("location", "city", m.group(3))


@rules.search(
    "work.job/teach",
    r"\bi (?:now |still |currently )?teach(?: (\w+)(?: \w+)?)? (?:at|in|to)\b",
    examples=["I teach chemistry at Rushey Mead School in Leicester"],
    counterexamples=["She teaches chemistry at Rushey Mead School in Leicester"],
)
def _work_job_teach(m: re.Match[str], r: Reading) -> None:
    subject = (m.group(1) or "").lower()
    r.add("work", "job", f"{subject} teacher" if subject and subject not in ("kids", "children", "students", "adults", "there", "here") else "teacher")
    if n := re.search(rf"\bteach(?: \w+(?: \w+)?)? at {ORG}(?: in {PLACE})?", r.s, re.I):
        # "I teach chemistry at Rushey Mead School in Leicester"
        if not is_when(n.group(1)):
            r.add("work", "employer", n.group(1))
        if n.group(2) and not is_when(n.group(2)):
            r.add("location", "city", n.group(2))


@rules.search(
    "work.employer/started-at",
    r"\bi (?:just |finally |recently )?(?:got (?:a|the) job|got hired|was hired|started (?:a new job|working|a job"
    rf"|a position)|joined|took a (?:job|position) at|started at) (?:as (?:a|an) [a-z -]+? )?(?:at|by|for|with)? ?{ORG}",
    examples=["I joined Takeda as a research pharmacist"],
    counterexamples=["She joined Takeda as a research pharmacist"],
)
def _work_employer_started_at(m: re.Match[str], r: Reading) -> None:
    if not re.search(r"\b(will|going to|next)\b", r.s, re.I) and not is_when(m.group(1)):
        r.add("work", "employer", m.group(1))


@rules.search(
    "work.former_employer/used-to-work",
    rf"\bi (?:lost|got laid off from|was laid off from) my job (?:at|with) (?:the )?{ORG}|\bi used to work (?:at|for) {ORG}",
    examples=["I used to work at Barclays."],
    counterexamples=["My dad used to work at Barclays."],
)
def _work_former_employer_used_to_work(m: re.Match[str], r: Reading) -> None:
    r.add("work", "former_employer", m.group(1) or m.group(2))


@rules.search(
    "work.business/run-own",
    rf"\bi (?:now |still )?(?:run|own|co-own|manage) (?:a|an|my own|our|my) (?:small |little |tiny |family |busy )?({BUSINESSES})(?: in {PLACE})?(?:,? called {ORG})?",
    examples=["I run a bakery"],
    counterexamples=["She runs a bakery"],
)
def _work_business_run_own(m: re.Match[str], r: Reading) -> None:
    r.add("work", "business", f"{m.group(1).lower()} {m.group(3)}" if m.group(3) else m.group(1).lower())
    if m.group(2) and not is_when(m.group(2)):
        r.add("location", "city", m.group(2))


@rules.search(
    "work.job/work-at-as",
    rf"\bi (?:now |still |currently |also |actually )?work (?:at|for) {ORG} as (?:a|an) ((?-i:(?:[a-z-]+ ){{0,2}}[a-z-]+))",
    examples=["I work at Fokker Labs as a test pilot."],
    counterexamples=["She works at Fokker Labs as a test pilot."],
)
def _work_job_work_at_as(m: re.Match[str], r: Reading) -> None:
    r.add("work", "job", m.group(2).lower())


@rules.search(
    "work.employer/work-at-a",
    r"\bi (?:now |also |still )?work (?:part-time |full-time |part time |full time )?at (?:a|an"
    r"|the) ((?-i:[a-z]+(?: (?!(?:to|and|but|so|in|on|for|with|near|as|because|since|while|when)\b)[a-z]+)?))\b",
    examples=["i work part-time at a bookshop to pay rent"],
    counterexamples=["she works part-time at a bookshop to pay rent"],
)
def _work_employer_work_at_a(m: re.Match[str], r: Reading) -> None:
    if not re.match(r"(moment|time|weekend|same|home|end)\b", m.group(1)):
        r.add("work", "employer", m.group(1))


@rules.search(
    "work.employer/now-at",
    rf"\bi(?:'m| am) (?:now )?(?:at|with) {ORG}(?: now\b)|\bi(?:'m| am) now (?:at|with) {ORG}",
    examples=["I quit X and I'm now at Y"],
    counterexamples=["She quit X and she's now at Y"],
)
def _work_employer_now_at(m: re.Match[str], r: Reading) -> None:
    if not (re.search(
                r"\b(jobs?|roles?|work|left|quit|company|team|position|hired|switched|joined)\b", r.text, re.I
            )):
        return
    if not is_when(m.group(1) or m.group(2)):
        r.add("work", "employer", m.group(1) or m.group(2))


@rules.match(
    "work.job/by-day",
    r"(?:i'?m )?(?:an? )?([a-z]+(?: [a-z]+)?) by day,? (?:and )?(?:an? )?([a-z]+(?: [a-z]+)?) by night\b",
    examples=["Software tester by day, amateur astronomer by night."],
    counterexamples=["Busy by day and tired at night."],
)
def _work_job_by_day(m: re.Match[str], r: Reading) -> None:
    # "Software tester by day, amateur astronomer by night."
    if JOB_WORDS.search(m.group(1).lower()):
        r.add("work", "job", m.group(1).lower())
    r.add("preferences", "hobby", m.group(2).lower())


@rules.search(
    "work.job/first-stint-as",
    rf"\b(?:my )?{FIRST_STINT} as (?:a |an |the )?{JOB_PHRASE}(?= (?:is|was|went|done|over|at|in|and)\b|[.,!;]|$)",
    examples=["First half term as head of science is done!", "First month as head of English done"],
    counterexamples=["My first week as a nurse will be hard."],
)
def _work_job_first_stint_as(m: re.Match[str], r: Reading) -> None:
    # "First half term as head of science is done!", "First month as head of English done": the job, said by
    # having done it.
    if is_job(m.group(1).lower()) and not NOT_YET.search(r.s):
        r.add("work", "job", m.group(1))


@rules.match(
    "work.job/label",
    rf"(?:an? )?((?:[a-z-]+ ){{0,2}}[a-z-]+|{ACRONYM_JOBS}(?: [a-z-]+)?) (?:at|for"
    rf"|with) {ORG}(?:,\s*{PLACE})?(?:,\s*(?:started|starting|since) [\w ]+)?[.!]?$",
    examples=["Engineer at Antonov, Kyiv."],
    counterexamples=["You work at Fokker Labs."],
    terse=True,
    flags=0,
)
def _work_job_label(m: re.Match[str], r: Reading) -> None:
    # "Engineer at Antonov, Kyiv.": a job, its employer and town, said as a label
    if (is_job(m.group(1)) or re.match(ACRONYM_JOBS, m.group(1))) and not is_when(m.group(2)):
        r.add("work", "job", m.group(1))
        r.add("work", "employer", m.group(2))
        if m.group(3) and not is_when(m.group(3)):
            r.add("location", "city", m.group(3))


@rules.match(
    "work.employer/new-job-label",
    rf"(?:(?:got|started) (?:a |my )?)?new job (?:at|with) {ORG}(?:,\s*(?:as )?(?:an? )?((?:[a-z-]+ ){{0,2}}[a-z-]+))?[.!]?$",
    examples=["New job at PZL Mielec, design engineer."],
    counterexamples=["New job at May, starting soon."],
    terse=True,
    flags=0,
)
def _work_employer_new_job_label(m: re.Match[str], r: Reading) -> None:
    # "New job at PZL Mielec, design engineer."
    if not is_when(m.group(1)):
        r.add("work", "employer", m.group(1))
        if m.group(2) and is_job(m.group(2)):
            r.add("work", "job", m.group(2))


@rules.search(
    "work.business/opened-called",
    rf"\b(?:my|our|the) (?:new |own )?({BUSINESSES}) (?:is|'s) (?:now |finally |officially )?(?:open|opened|up and running"
    rf"|launched)\b[^.!?]*?\b(?:it'?s|it is|is) called ((?-i:[A-Z][\w'.-]*(?: (?:& )?[A-Z][\w'.-]*){{0,3}}))",
    examples=["The shop is open now, it is called Bram & Jens Fietsen"],
    counterexamples=["The shop is open now, it is called a nightmare."],
)
def _work_business_opened_called(m: re.Match[str], r: Reading) -> None:
    # "The shop is open now, it is called Bram & Jens Fietsen"
    r.add("work", "business", f"{m.group(1).lower()} {m.group(2)}")


@rules.search(
    "work.subject/studying-at",
    r"\bi(?:'m| am)? (?:currently |now )?(?:studying|study|doing a degree in|doing a masters in"
    rf"|doing a phd in) ((?-i:[a-z]+(?: [a-z]+){{0,2}})) (?:at|in) {ORG}",
    examples=["studying marine biology at Plymouth"],
    counterexamples=["studying hard at Easter"],
)
def _work_subject_studying_at(m: re.Match[str], r: Reading) -> None:
    # "studying marine biology at Plymouth" (its "I'm" put back)
    if not is_when(m.group(2)) and m.group(1).lower() not in ("hard", "late", "abroad", "online", "for", "with"):
        r.add("work", "subject", m.group(1).lower())
        r.add("work", "school", m.group(2))


@rules.search(
    "work.school/student-at",
    r"\bi(?:'m| am) (?:a |an )(?:first[- ]year |second[- ]year |third[- ]year |final[- ]year |mature |phd |grad |graduate "
    rf"|postgrad |part-time |full-time )?((?-i:[a-z]+ )?)student (?:at|in) {ORG}",
    examples=["I'm a second-year law student at Leeds"],
    counterexamples=["She's a second-year law student at Leeds"],
    unless="work.subject/studying-at",
)
def _work_school_student_at(m: re.Match[str], r: Reading) -> None:
    if not is_when(m.group(2)):
        r.add("work", "school", m.group(2))  # "I'm a second-year law student at Leeds"


@rules.search(
    "work.employer/got-job-at-the",
    r"\bi (?:just |finally )?got (?:a|the) (?:new |part-time |weekend )?job (?:at|in) (?:the|a) ((?-i:[a-z]+(?: (?!(?:and"
    r"|but|so|for|with|on|in|at)\b)[a-z]+)?))(?=[.,!;]|$| [a-z])",
    examples=["got a job at the campus cafe!!"],
    counterexamples=["My flatmate got a job at the campus cafe."],
)
def _work_employer_got_job_at_the(m: re.Match[str], r: Reading) -> None:
    # "got a job at the campus cafe!!"; one not yet begun is a plan ("…, starting in october!!")
    later = re.search(r"\b(?:starting|start|will|going to|next)\b", r.s, re.I)
    r.put("work", "employer", clean(m.group(1)), kind="plan" if later else "fact")


@rules.search(
    "work.employer/headhunted",
    r"\bi(?:'ve| have)? been (?:headhunted|hired|poached|recruited|taken on|snapped up) by " + ORG,
    examples=["I've been headhunted by Nuvem Studio; I start in January."],
    counterexamples=["She's been headhunted by Nuvem Studio; she starts in January."],
)
def _work_employer_headhunted(m: re.Match[str], r: Reading) -> None:
    # "I've been headhunted by Nuvem Studio; I start in January."
    if not is_when(m.group(1)):
        kind = "plan" if re.search(r"\b(?:i start|starting|i'll start|i will start|from (?:next|january|february|march|april|may|june|july|august|september|october|november|december))\b", r.text, re.I) else "fact"
        r.put("work", "employer", m.group(1), kind=kind)


@rules.match(
    "work.job/im-a-acronym",
    rf"i(?:'m| am) (?:a |an )({ACRONYM_JOBS})(?: (?:working|based) in {PLACE})?(?=[.,!;]|$| and\b| at\b| in\b)",
    examples=["I'm a GP working in Tromsø", "As a GP working in Tromsø, …?"],
    counterexamples=["She's a GP working in Tromsø"],
)
def _work_job_im_a_acronym(m: re.Match[str], r: Reading) -> None:
    r.add("work", "job", m.group(1))  # "I'm a GP working in Tromsø" (read from "As a GP working in Tromsø, …?")
    if m.group(2) and not is_when(m.group(2)):
        r.add("location", "city", m.group(2))


@rules.search(
    "work.field/work-in",
    r"\bi (?:now |still |currently )?work in ((?-i:[a-z]+(?: [a-z]+)?))(?=[.,!;]|$| (?:at|for|and|but|so)\b)",
    examples=["I work in logistics"],
    counterexamples=["I work in a bakery."],
)
def _work_field_work_in(m: re.Match[str], r: Reading) -> None:
    # "I work in logistics": the field one works in (not "in a shop", "in the city", "in London")
    if m.group(1).split()[0] not in ("a", "an", "the", "my", "our", "this", "that", "retail,", "shifts", "town", "there", "here"):
        r.add("work", "field", m.group(1).lower())


@rules.match(
    "work.employer/now-at-as",
    rf"(?:now|currently) (?:at|with) {ORG} as (?:a|an|the) ((?-i:(?:[a-z-]+ ){{0,2}}[a-z-]+))(?=[.,!;]|$| now\b)",
    examples=["now at InPost as a team lead"],
    counterexamples=["Now at Christmas as a family."],
    terse=True,
    flags=0,
)
def _work_employer_now_at_as(m: re.Match[str], r: Reading) -> None:
    if not is_when(m.group(1)):
        r.add("work", "employer", m.group(1))  # "now at InPost as a team lead"
        r.add("work", "job", m.group(2))


# "I joined Takeda as a research pharmacist", "I got a new job at Wise as a senior product designer": the new
# employer, and the job when it is named.
def _new_employer(m: re.Match[str], r: Reading) -> None:
    if not is_when(m.group(1)):
        r.add("work", "employer", m.group(1))
        if m.group(2) and is_job(clean(m.group(2))):
            r.add("work", "job", clean(m.group(2)))


rules.search(
    "work.employer/joined-as",
    r"\bi (?:just |recently |finally )?(?:joined|moved to|switched to|went to) (?:an? (?:\w+ )?(?:startup|company|firm|team"
    rf"|agency|studio|lab) (?:called|named) )?{ORG} as (?:a|an|the|their|its) ((?-i:(?:[a-z-]+ ){{0,3}}[a-z-]+))",
    examples=["I joined Takeda as a research pharmacist"], counterexamples=["She joined Takeda as a research pharmacist"],
)(_new_employer)
rules.search(
    "work.employer/new-job-at",
    r"\bi(?: got| found| landed| accepted|'ve got| have got) (?:a |my |the )?(?:new )?(?:job|role|position) (?:at"
    rf"|with) {ORG}(?: as (?:a|an) ((?-i:(?:[a-z-]+ ){{0,3}}[a-z-]+)))?",
    examples=["I got a new job at Wise as a senior product designer"], counterexamples=["She got a new job at Wise as a senior product designer"],
)(_new_employer)

RULES = rules.rules
