"""Which language a chat line is in, from its folded form: English, German, French or Spanish (the
languages with shipped rules), a few others that have none yet, or a non-Latin script.

Why a word list and not a model: chat lines are short ("ich kann nicht mehr"), the folded text is already
at hand, and the answer only ever *adds* a language's rules to a room's own, so it must be cheap (a few
microseconds: one dictionary look-up per word) and say nothing when unsure. Each language has words of its
own that chat is full of (pronouns, articles, auxiliaries, negations, common verbs), written here in
folded form (lower case, no accents, ``ß`` as ``ss``, elisions joined: ``j'ai`` is ``jai``); a word two
of these languages share ("de", "la", "que", "en", "a", "no", "die") is left out, so it counts for none.
A pronoun of the first person counts double: it is what short lines about oneself have. The word lists
are ours (DATA.md); ``tests/test_language.py`` measures them on short lines.

A line of at least ``MIN_WORDS`` words is said to be in a language when its words score at least
``MIN_SCORE`` for it and at least ``MARGIN`` more than for any other; otherwise ``None`` (unsure), and
nothing is added. Letters that folding strips and only one of these languages writes (ñ, ß, ç...) count
too, read from the line as written.
"""

from __future__ import annotations

import re

__all__ = ["SUPPORTED", "identify", "is_supported", "wholly"]

SUPPORTED = ("en", "de", "fr", "es")  # languages with shipped rules: policies/default.yaml, default-LANG.yaml
MIN_WORDS = 2  # a one-word line ("ich", "je", "morgen") names no language
MIN_SCORE = 2
MARGIN = 2

_WORDS = {
    "en": ("the and is are was were this that with have has had its youre dont doesnt didnt cant wont im ive "
           "id ill isnt arent wasnt what when where why how who which would could should about just really "
           "because think know want going gonna wanna get got out from they them their there here been being "
           "today tonight tomorrow anymore anyone nobody everyone something nothing never always again any "
           "some all of to for it at on my your our you he she we us our him her his of do does did not "
           "like feel feeling life kill end tired alone help sorry goodbye bye thanks thank please yes "
           "lol lmao omg idk tbh rn ur u but if be am can or up too need go cuz mean wish"),
    "de": ("und ist nicht das ein eine einen einem einer der den dem des sind war bin bist hab habe hast "
           "hat haben mir mein meine meinen meiner mich dich dir du er sie wir ihr euch uns es auch noch "
           "schon nur mehr kein keine keinen nichts niemand immer nie jetzt heute morgen gestern gleich "
           "wenn dass weil aber oder mit von zu zum zur auf aus bei nach fur uber unter wie was wer wo "
           "warum ja nein doch mal halt echt sehr gut schlecht leben sterben tot tod mude allein einfach "
           "kann konnen muss mochte soll werde wird wurde ware sagt sagen geh gehe gehen sitz sitze "
           "tut leid tschuss danke bitte hallo furs zuhoren brauche hilfe glaube "
           "nen gabs deswegen ganzen hoffentlich runter wer heut abend beim dabei nochmal ihr lieben guten "
           "mathe hausaufgabe zeitung fertig bringt weiss wirklich vielleicht eigentlich grad gerade kaum "
           "weil dann denn also jemand irgendwie tabletten brucke umbringen abschied "
           "ned nimma scho wieda oida hob heit afoch liaba gruezi mitenand gmacht isch alle alles viel ganz wieder sich selbst ab vom "
           "egal nix ob seit gegen welche welcher viele geht gibts sobald liegt steht weh endlich dagegen wenns ichs machs "
           "mach brauch stirbt jeden lust bissl vllt eig gell mog wos frog tog lebn eifach nume numm wett zvill gsi mer nod "
           "koa weils liabsten uberlegt uberleg gesucht gegoogelt methode vor wochen tagen nimmer sowieso ziemlich bisschen"),
    "fr": ("je jai jsuis suis es est sommes etes sont cest cetait etait ai as avons avez ont pas plus "
           "rien personne jamais toujours ne ni moi toi lui elle nous vous ils elles mon ma mes ton ta tes "
           "son sa ses notre votre leur le les un une des du au aux et ou mais donc car avec pour sans dans "
           "sur chez vers qui quoi quand comment pourquoi ce cette ces ca cela tout tous toute veux veut "
           "peux peut vais va vas fait faire dit dire mourir mort vivre vie fatigue seul seule aujourdhui "
           "demain hier ce soir nuit merci bonjour salut oui non bien tres trop jen jme jte mest tes quil "
           "quelle qu jvais chui bcp mdr ptdr stp svp envie marre fini mais que si se te me ni avoir besoin aide "
           "fatiguee crever creve dla pis chu ctait drole prof parle cours pleut encore quelle taime pendre "
           "medecin verra bon gens appetit jveux jpeux jsais chuis tsais ptet peut-etre vraiment enfin "
           "quelquun rien personne cachets pont adieu tuer suicider "
           "jaimerais jvoudrais voudrais aimerais jespere quun quune quon morte morts tuee suicidee voiture soir "
           "matin jour journee soiree devrais devrait pourrais aurais faut etais jetais serait serais etre ete faim "
           "exister disparaitre effacer reveiller endormir doliprane jeter jette connard salope bouffon jpp tkt "
           "serveur depuis marrive coucou commu bonne semaines serieux sers neige tabarnak faudrait hante lidee idee "
           "jsui jvai envi vois sauter"),
    "es": ("el los las un una unos unas y o pero porque como cuando donde quien que es soy eres somos son "
           "estoy estas esta estamos estan fui era tengo tienes tiene tenemos hay mi mis tu tus su sus yo "
           "me te nos se lo le les del al con sin para por sobre entre muy mas ya nada nadie nunca siempre "
           "tambien todo todos toda hoy manana ayer noche quiero quieres puedo puede voy vas va hacer hago "
           "dice decir morir muerto muerta vivir vida cansado cansada solo sola gracias hola si bueno bien "
           "aqui alli eso esto esta ese esa asi ahora despues antes mejor peor matarme suicidarme adios "
           "perdon xq pq tmb tb q xd jaja jajaja ni necesito creo hora anoche demasiado demasiadas "
           "pastillas ayuda fuera daria cuenta alguien sabe hace falta algo cual cuanto cuantos cuantas "
           "despues siento sigo vuelvo igual importa ojala aca buenas tal pregunto meses horas mierda tia tio "
           "puente vale pues entonces quizas cosa cosas gente casa mama amigos amiga amigo familia trabajo "
           "colegio dormir llorar llorando triste morirme matame mueras tirate tirarse ahorcarse cortarme "
           "despertar holaaa jugar vdd "
           "muero mori muere mata matar mato matando muriendo quisiera existir existo existiera gustaria sentido "
           "veo seguir viviendo deberia deberias muerete matate suicidate andate vete hambre sueno risa jefe tarea "
           "pastilla psiquiatra fiebre ganas vacia vacio fracaso ultimamente atropelle pise gil imbecil "
           "pendejo boludo boluda wey weon parce pelotudo idiota parta novela intento quitarse "
           "quemo cigarros loca loco ahi pienso preocupen olvide llego buenisimo verte susto contigo verguenza "
           "jsjs jsjsjs jajsjs jajajaja colgarte asco estaria seria tendria podria hubiera nacido desaparecer "
           "cansada harta harto neta chido oye vos sos tenes queres podes curro joder hostia cono chamba pibe "
           "pibes culpa nomas nadita ahorita porfa tampoco todavia aun mientras duermo estaba estuve "
           "tome tomar puedes quieres hiciste dije dijo conmigo"),
    # languages with no rules yet: identified only to be counted ("lines in a language with no rules")
    "it": ("sono sei siamo della delle degli il gli che perche questo questa quello molto anche cosa "
           "io non ce faccio piu voglio morire vita oggi domani sempre niente nessuno grazie ciao"),
    "pt": ("eu voce nao estou tenho muito isso isto obrigado obrigada sim uma um com para mas tambem "
           "hoje amanha nada ninguem sempre morrer vida quero aguento mais ele ela nos"),
    "nl": ("ik het niet een wat zijn maar ook dat voor met hij wij jij jullie nog geen niets niemand "
           "altijd vandaag morgen dood leven wil kan moet ben heb hebt dank doei hoi"),
}
_FIRST_PERSON = {"en": "i im ive id ill me my myself", "de": "ich mich mir mein meine bin", "fr": "je jai jsuis moi",
                 "es": "yo estoy soy quiero tengo", "it": "io sono", "pt": "eu estou", "nl": "ik mij"}


def _table() -> dict[str, tuple[str, int]]:
    """word -> (language, weight), for words of exactly one language (a shared word names none)."""
    owners: dict[str, set[str]] = {}
    for lang, words in _WORDS.items():
        for w in words.split():
            owners.setdefault(w, set()).add(lang)
    for lang, words in _FIRST_PERSON.items():
        for w in words.split():
            owners.setdefault(w, set()).add(lang)
    table = {}
    for word, langs in owners.items():
        if len(langs) == 1:
            lang = next(iter(langs))
            table[word] = (lang, 2 if word in _FIRST_PERSON[lang].split() else 1)
    return table


_TABLE = _table()

# Scripts other than Latin, by code point ranges of their letters; a line mostly in one is in that script.
_SCRIPTS = (("cyrillic", "\u0400-\u052f"), ("greek", "\u0370-\u03ff"), ("arabic", "\u0600-\u06ff\u0750-\u077f"),
            ("hebrew", "\u0590-\u05ff"), ("devanagari", "\u0900-\u097f"), ("thai", "\u0e00-\u0e7f"),
            ("cjk", "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"))
_SCRIPT_RE = [(name, re.compile(f"[{ranges}]")) for name, ranges in _SCRIPTS]


def is_supported(language: str | None) -> bool:
    return language in SUPPORTED


# Letters folding strips that only one of these languages writes (a point for each one a line has): read from
# the line as written, and only when it is not plain ASCII.
_LETTERS = {"es": "ñ¿¡", "de": "ßäöü", "fr": "œêçâîû"}


def identify(norm: str, text: str | None = None) -> str | None:
    """The language of a folded line (``folding.normalise``; ``text``, the line as written, adds the
    letters folding strips): a code of ``SUPPORTED``, ``it``, ``pt`` or ``nl`` (no rules yet), a script's
    name (``cyrillic``, ``arabic``, ``cjk``...) or ``None`` when unsure."""
    if not norm.isascii():
        script = _script(norm)
        if script is not None:
            return script
    scores: dict[str, int] = {}
    if text is not None and not text.isascii():
        lowered = text.lower()
        for lang, letters in _LETTERS.items():
            n = sum(map(lowered.__contains__, letters))
            if n:
                scores[lang] = n
    words = norm.split()
    if len(words) < MIN_WORDS:
        return None
    for hit in map(_TABLE.get, words):
        if hit is not None:
            scores[hit[0]] = scores.get(hit[0], 0) + hit[1]
    if not scores:
        return None
    best = max(scores, key=scores.__getitem__)
    score = scores.pop(best)
    runner_up = max(scores.values(), default=0)
    return best if score >= MIN_SCORE and score - runner_up >= MARGIN else None


def wholly(norm: str, text: str | None, language: str) -> bool:
    """Whether a folded line is identified as ``language`` and holds no word that only another language has ("tonight
    ist es soweit, sorry for everything" is identified as English, but "ist" is German's alone: a mixed line)."""
    if identify(norm, text) != language:
        return False
    return all(hit is None or hit[0] == language for hit in map(_TABLE.get, norm.split()))


def _script(norm: str) -> str | None:
    """The non-Latin script most of the line's letters are in, if more than half are."""
    letters = sum(map(str.isalpha, norm))  # (``map``: in C, a line's characters are many)
    for name, pattern in _SCRIPT_RE:
        n = len(pattern.findall(norm))
        if n and 2 * n > letters:
            return name
    return None
