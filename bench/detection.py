"""Detection's speed and size as a user meets them (issue 25, item 7): run with
``.venv/bin/python bench/detection.py [N]``.

Why a second detection benchmark beside ``bench/matchers.py``: that one measures the matcher on short
word-salad lines; a peer-support room also carries long posts (several sentences, where the model
scores each sentence with its neighbours) and the whole ``gateway scan`` process pays for start-up,
the model's load, reading and JSON output. The corpus is synthetic (made here from word lists and a
few sentence frames, seeded), never anyone's messages:

- 93% chat lines of 3 to 16 everyday words, 5% long posts (4 to 10 sentences of personal narrative,
  about 150 to 700 characters), 2% lines with risk phrases;
- ``gateway scan`` over N lines from a file, three runs, wall time and the child's peak resident
  memory (``ru_maxrss``); targets: >= 15,000 lines/s, <= 150 MB;
- ``--mixed``: the same shapes in four languages (a quarter each of English, German, French and Spanish
  chat words with their accents, and a few lines of Italian and Cyrillic), where language identification
  adds the other languages' shipped rules to the room's (issue 27; the same target);
- the detector one message at a time (``detect``, a message arriving alone), in process; target
  >= 3,000 msg/s; and the model file's size (target <= 20 MB).
"""

from __future__ import annotations

import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = ("the a to and i you it is was for on that this with my so just but have be what are not "
         "lol ok yeah game today work tired exam coffee dog cat meeting lunch tonight weekend movie "
         "music good bad really think know want going time people love help thanks sorry morning").split()
SUBJECTS = ["my manager", "my partner", "my sister", "the landlord", "my mum", "my best friend", "the doctor",
            "my flatmate", "my boss", "our teacher"]
FRAMES = ["i have been so stressed about {x} this month", "{x} keeps asking me to do more and more",
          "honestly i dont know how to talk to {x} anymore", "we had another argument about money last night",
          "i barely slept and work was a nightmare again", "my back has been hurting since the move",
          "i miss how things were before {x} changed jobs", "some days i feel really low and i cry a lot",
          "i started therapy last week and it is helping a bit", "the rent went up again and i am worried",
          "i went for a walk this morning and felt a little better", "i think i need to set some boundaries",
          "everything feels heavy and i am tired all the time", "anyway thanks for reading this far"]
RISKY = ["i took all my pills", "I want to die", "wanna kms tbh", "i wish i was dead", "gonna kill myself tonight",
         "kill me lol", "I would never kill myself", "i have the pills right here and im doing it tonight"]


# Mixed-language chat (issue 27): everyday words of each language, accents as people type them.
MIXED_WORDS = {
    "de": ("ich du und ist nicht das ein mir heute müde schön gut spiel arbeit kaffee hund katze mittag "
           "morgen wochenende film musik danke bitte echt halt schon noch mal früh später später später").split(),
    "fr": ("je tu et est pas le la les un une moi ça été très fatigué café chien chat déjeuner demain "
           "week-end film musique merci oui non bien mdr jsuis c'est j'ai trop").split(),
    "es": ("yo tú y es no el la los un una mí hoy mañana cansado café perro gato almuerzo fin semana "
           "película música gracias sí bien jaja está qué porque también muy").split(),
    "it": "io sono che non molto anche oggi domani grazie ciao perché questo".split(),
    "ru": "я ты и не это сегодня завтра спасибо привет хорошо кофе".split(),
}
MIXED_RISKY = ["ich will sterben", "je veux mourir", "quiero morir", "ich will nicht mehr leben",
               "esta noche me mato", "j'ai plus envie de vivre"]


def corpus(n: int, seed: int = 25, mixed: bool = False) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.02:
            out.append(rng.choice(RISKY + MIXED_RISKY if mixed else RISKY))
        elif r < 0.07:
            sentences = [rng.choice(FRAMES).format(x=rng.choice(SUBJECTS)) for _ in range(rng.randint(4, 10))]
            out.append(". ".join(s.capitalize() for s in sentences) + ".")
        else:
            lang = "en" if not mixed else rng.choice(("en", "de", "fr", "es", "en", "de", "fr", "es", "it", "ru"))
            words = WORDS if lang == "en" else MIXED_WORDS[lang]
            out.append(" ".join(rng.choice(words) for _ in range(rng.randint(3, 16))))
    return out


def scan_run(path: str) -> tuple[float, float, float]:
    """Seconds, CPU seconds (what a busy machine's wall time hides) and peak resident MB of one
    ``gateway scan`` over the file (a fresh process each time)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(path, "rb") as src:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "gateway.cli", "scan"], stdin=src, stdout=subprocess.DEVNULL,
                       cwd=ROOT, check=True)
        seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # ru_maxrss: the largest child so far, in KB
    cpu = (after.ru_utime + after.ru_stime) - (usage.ru_utime + usage.ru_stime)
    return seconds, cpu, max(after.ru_maxrss, usage.ru_maxrss) / 1024


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--mixed"]
    mixed = "--mixed" in sys.argv[1:]
    n = int(args[0]) if args else 100_000
    lines = corpus(n, mixed=mixed)
    long_share = sum(t.count(". ") >= 3 for t in lines) / n
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
        fh.write("\n".join(lines) + "\n")
        path = fh.name
    try:
        print(f"{n:,} synthetic lines ({long_share:.0%} long posts, mean {sum(map(len, lines)) / n:.0f} "
              f"characters{', mixed languages' if mixed else ''}), default policy, one core")
        for i in range(3):
            seconds, cpu, peak = scan_run(path)
            print(f"  gateway scan, run {i + 1}: {seconds:.2f} s, {n / seconds:,.0f} lines/s ({n / cpu:,.0f} a CPU "
                  f"second), peak {peak:.0f} MB")
    finally:
        os.unlink(path)

    from gateway.detection import detector_for
    from gateway.detection.model import SHIPPED_MODEL
    from gateway.policy.loader import PolicyLoader

    detector = detector_for(PolicyLoader().load("default"))
    sample = lines[: min(n, 20_000)]
    for text in sample[:2000]:
        detector.detect(text)  # warm RE2's lazily built states
    t0 = time.perf_counter()
    for text in sample:
        detector.detect(text)
    one = len(sample) / (time.perf_counter() - t0)
    longs = [t for t in sample if t.count(". ") >= 3]
    t0 = time.perf_counter()
    for text in longs:
        detector.detect(text)
    long_rate = len(longs) / (time.perf_counter() - t0)
    print(f"  detector one message at a time: {one:,.0f} msg/s (long posts alone: {long_rate:,.0f} msg/s)")
    print(f"  model file {SHIPPED_MODEL.name}: {SHIPPED_MODEL.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
