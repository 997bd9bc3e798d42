"""The words that attribute: reporting, belief, intent and stance verbs, and cue nouns.

Hand-written from the usual English verb classes (Levin's verbs of communication, of
psychological state and of desire; PARC's and PolNeAR's guidelines count all of them as
attribution cues: "said", "believes", "wants", "plans", "supports"). Nothing here is learnt
from a corpus.
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# verbs of saying and writing: a clause, a quote or (where OBJECT_VERBS allows) an object
COMMUNICATION = _words(
    """
    say tell add write ask note report announce suggest argue tweet explain declare
    acknowledge insist claim state warn reply respond recall conclude predict reveal deny
    admit concede contend maintain assert allege charge complain stress emphasize emphasise
    point observe remark testify indicate propose recommend promise vow pledge estimate
    caution counter mention reiterate repeat comment quip joke speculate posit affirm opine
    retort concur agree disagree question wonder disclose boast brag lament grumble muse
    recount describe call accuse criticize criticise praise urge demand hint imply signal
    instruct cite discuss speak rate rule reject publish read post email confirm continue
    express reference echo pitch threaten advise inform assure remind announce characterize
    characterise label dub brand liken compare blame dismiss defend endorse support oppose
    condemn denounce decry applaud welcome tout highlight promote mock ridicule attack blast
    slam challenge dispute contest encourage advocate plead beg order quote
    caution forecast project predict calculate document detail outline acknowledge
    concede confess proclaim shout yell scream whisper sing chant exclaim sigh answer
    interject interrupt conclude summarize summarise elaborate clarify reassure lecture
    tease taunt insinuate speculate theorize theorise surmise recommend suggest counsel
    vow swear testify certify verify attest show find talk
    """
)
# verbs of belief and knowledge: their content is a clause ("believes that …")
BELIEF = _words(
    """
    believe think feel know hope fear expect worry doubt suspect assume figure guess
    understand realize realise reckon imagine trust sense presume anticipate view regard
    learn
    """
)
# verbs of wanting and deciding: their content is an infinitive or an object
INTENT = _words(
    """
    want wish plan intend seek aim refuse decline decide prefer
    """
)
# verbs of judging someone or something aloud (Levin's "judgment" verbs and kin)
JUDGMENT = _words(
    """
    lambaste lambast deride chastise scold laud hail champion castigate rebuke berate bash
    fault downplay bemoan rail decry lament portray paint refer invoke assail excoriate
    disparage belittle rebut refute
    """
)
SPEECH_VERBS = COMMUNICATION | BELIEF | INTENT | JUDGMENT
# a state of mind rather than an act of saying: "I think", "you know", "we want" in someone's
# speech are asides, and "is expected to" says nothing of who expects
PRIVATE = BELIEF | INTENT

# verbs whose direct object is what was said ("announced the move", "denied the allegations")
OBJECT_VERBS = _words(
    """
    announce deny describe criticize criticise praise accuse blame call dismiss reject
    defend endorse support oppose condemn denounce question propose recommend cite
    acknowledge confirm reveal admit discuss predict promise pledge vow demand urge want
    seek release publish attack blast slam mock welcome decry applaud back tout highlight
    promote challenge post share rate rule view like mention express
    reference echo encourage advocate dispute contest ridicule characterize characterise
    label dub brand liken compare quote prefer disclose report detail outline forecast
    estimate project threaten order invite concede show indicate note suggest claim declare
    """
)
# verbs that take a content only as a clause: a bare object is not content ("told Breitbart")
CLAUSE_ONLY = (
    _words(
        """
        say tell add write ask note suggest argue tweet explain declare insist claim state
        warn reply respond recall conclude contend maintain assert allege charge complain
        stress emphasize emphasise point observe remark testify indicate caution counter
        comment quip joke speculate posit affirm opine retort concur agree disagree wonder
        show find boast brag lament grumble muse recount hint imply signal continue answer
        proclaim shout yell scream whisper exclaim sigh interject elaborate clarify assure
        reassure remind inform advise swear plead beg
        """
    )
    | BELIEF
) - OBJECT_VERBS

# nouns that attribute when someone owns them: "Trump's claim that …"
NOUN_CUES = _words(
    """
    claim statement remark comment assertion allegation accusation argument suggestion
    warning promise pledge criticism call announcement admission denial insistence view
    belief message endorsement opposition complaint demand proposal prediction
    """
)

# where words were said: "said in a statement", "told CNN in an interview"
MEDIA_NOUNS = _words(
    """
    statement interview letter email e-mail tweet post speech op-ed oped editorial column
    essay memo memoir book release conference briefing call appearance remarks message
    video ad advertisement filing testimony hearing debate address podcast broadcast
    """
)

# forms the small English model lemmatises wrongly ("hopes" as "hop", "rated" as "rat")
LEMMA_FIXES = {
    "hopes": "hope",
    "hoped": "hope",
    "hoping": "hope",
    "rated": "rate",
    "rates": "rate",
    "rating": "rate",
}

# nouns that name a stance taken aloud: "expressed concern about", "voiced support for"
STANCE_NOUNS = _words(
    """
    concern concerns outrage misgiving misgivings doubt doubts support opposition skepticism
    scepticism frustration reservation reservations alarm worry worries fear fears hope hopes
    confidence disappointment anger dismay regret sympathy condolences interest optimism
    pessimism displeasure disapproval approval gratitude satisfaction
    """
)

# adjectives that, after "be", say what someone believes: "was sure", "is convinced that"
BELIEF_ADJECTIVES = _words(
    """
    sure convinced confident certain adamant hopeful optimistic skeptical sceptical doubtful
    afraid worried concerned aware unaware positive persuaded
    """
)

# cue nouns that attribute even with no owner named: "allegations of fraud", "reports of"
OWNERLESS_NOUN_CUES = _words(
    """
    claim allegation accusation charge criticism report rumor rumour complaint warning
    """
)

# prepositions whose object is the content for particular verbs: "pointed to", "responded
# with", "agreed with" (about, of, for and against serve every verb)
VERB_PREPS: dict[str, tuple[str, ...]] = {
    "point": ("to",),
    "respond": ("to", "with"),
    "reply": ("to", "with"),
    "refer": ("to",),
    "allude": ("to",),
    "object": ("to",),
    "agree": ("with", "on", "to"),
    "disagree": ("with", "on"),
    "speak": ("out",),  # not "on": "speaks on the side of the meeting" is where, not what
    "comment": ("on",),
    "weigh": ("on",),
    "push": ("for",),
}
