"""Tag schemes for sequence labelling: detect, check, convert, spans, transitions, scores.

A tag is `"O"` (outside any entity) or `PREFIX-TYPE`, where the type may itself contain
hyphens (`B-creative-work`). Three schemes are supported:

| scheme | an entity of type X is | example: "EU rejects German call" |
|---|---|---|
| IOB1  | I-X ... I-X; B-X only starts an entity right after another X entity | I-ORG O I-MISC O |
| IOB2  | B-X I-X ... I-X (CoNLL-2003 as usually distributed today, WNUT-17)   | B-ORG O B-MISC O |
| BIOES | S-X for one token, B-X I-X ... E-X for longer ones                  | S-ORG O S-MISC O |

`spans` reads any tag sequence, valid or not, the way `conlleval` reads it: a token continues
the open entity if and only if its tag is I-X or E-X and the previous tag is B-X or I-X of
the same type; any other non-O tag starts a new entity, and E-X / S-X close it. On valid
sequences this is the scheme's exact meaning; on invalid ones (I-X after O in IOB2, a B-X
without its E-X in BIOES) it is the usual repair. `problems` lists what a strict reader
rejects. `convert` = `spans` then `from_spans`, so converting is also repairing.

Everything here is plain Python (no TensorFlow), so any application can use it.
"""

SCHEMES = ("IOB1", "IOB2", "BIOES")
_ALIASES = {"IOBES": "BIOES", "BIOES": "BIOES", "IOB1": "IOB1", "IOB2": "IOB2", "BIO": "IOB2"}
PREFIXES = {"IOB1": ("B", "I"), "IOB2": ("B", "I"), "BIOES": ("B", "I", "E", "S")}
OUTSIDE = "O"


def scheme_name(name):
    """The canonical name of a scheme (`"iob2"`, `"BIO"` -> `"IOB2"`; `"iobes"` -> `"BIOES"`).

    Raises:
        ValueError: An unknown scheme.
    """
    canonical = _ALIASES.get(str(name).upper())
    if canonical is None:
        raise ValueError(f"unknown tag scheme {name!r}; expected one of {', '.join(SCHEMES)}")
    return canonical


def split_tag(tag):
    """`"B-PER"` -> `("B", "PER")`; `"O"` -> `("O", None)`; malformed tags -> `(None, None)`.

    The type is everything after the first hyphen, so `"I-creative-work"` has the type
    `"creative-work"`.
    """
    if tag == OUTSIDE:
        return OUTSIDE, None
    prefix, hyphen, entity_type = tag.partition("-")
    if not hyphen or not entity_type or len(prefix) != 1:
        return None, None
    return prefix, entity_type


def tag_error(tag, scheme):
    """Why `tag` is not a tag of `scheme` (a message), or None if it is one."""
    scheme = scheme_name(scheme)
    prefix, entity_type = split_tag(tag)
    if prefix == OUTSIDE:
        return None
    allowed = PREFIXES[scheme]
    if prefix is None or prefix not in allowed:
        forms = ", ".join(f"{p}-TYPE" for p in allowed)
        return f"tag {tag!r} is not a {scheme} tag (expected O, {forms})"
    return None


def _continues(previous, current):
    """Whether `current` continues the entity that `previous` opened (the lenient rule)."""
    previous_prefix, previous_type = previous
    current_prefix, current_type = current
    return (
        current_prefix in ("I", "E")
        and previous_prefix in ("B", "I")
        and previous_type == current_type
    )


def spans(tags):
    """Entities of a tag sequence in any scheme, as `(type, start, end)` with `end` exclusive.

    Valid sequences of every scheme read as the scheme defines them; invalid ones are read
    leniently, as `conlleval` does (see the module docstring).

    Raises:
        ValueError: A tag that is neither O nor PREFIX-TYPE.
    """
    result = []
    previous = (OUTSIDE, None)
    open_start = None
    for index, tag in enumerate(tags):
        current = split_tag(tag)
        if current[0] is None:
            raise ValueError(f"malformed tag {tag!r} at position {index}")
        if open_start is not None and not _continues(previous, current):
            result.append((previous[1], open_start, index))
            open_start = None
        if current[0] != OUTSIDE and open_start is None:
            open_start = index
        if current[0] in ("E", "S") and open_start is not None:
            result.append((current[1], open_start, index + 1))
            open_start = None
        previous = current
    if open_start is not None:
        result.append((previous[1], open_start, len(tags)))
    return result


def from_spans(entity_spans, length, scheme="IOB2"):
    """The tags of `length` tokens holding `entity_spans` (non-overlapping `(type, start, end)`)."""
    scheme = scheme_name(scheme)
    tags = [OUTSIDE] * length
    previous_end, previous_type = None, None
    for entity_type, start, end in sorted(entity_spans, key=lambda span: span[1]):
        if not 0 <= start < end <= length:
            raise ValueError(f"span ({entity_type!r}, {start}, {end}) outside 0..{length}")
        if previous_end is not None and start < previous_end:
            raise ValueError(f"span ({entity_type!r}, {start}, {end}) overlaps the previous one")
        if scheme == "BIOES":
            if end - start == 1:
                tags[start] = f"S-{entity_type}"
            else:
                tags[start] = f"B-{entity_type}"
                tags[start + 1 : end - 1] = [f"I-{entity_type}"] * (end - start - 2)
                tags[end - 1] = f"E-{entity_type}"
        else:
            tags[start:end] = [f"I-{entity_type}"] * (end - start)
            adjacent = previous_end == start and previous_type == entity_type
            if scheme == "IOB2" or adjacent:
                tags[start] = f"B-{entity_type}"
        previous_end, previous_type = end, entity_type
    return tags


def convert(tags, target, source=None):
    """Re-encode a tag sequence in scheme `target` (repairing invalid input leniently).

    `source` is accepted for readability and checked if given; reading does not need it,
    because `spans` reads every scheme.
    """
    if source is not None:
        scheme_name(source)
    return from_spans(spans(tags), len(tags), target)


def problems(tags, scheme):
    """What a strict reader of `scheme` rejects: a list of `(position, message)`.

    Checks every tag (`tag_error`) and every transition: in IOB2 an I-X must follow B-X or
    I-X; in IOB1 a B-X must follow an X entity; in BIOES, B-X and I-X must be followed by
    I-X or E-X, and I-X and E-X must follow B-X or I-X (all of the same type).
    """
    scheme = scheme_name(scheme)
    found = []
    parsed = []
    for index, tag in enumerate(tags):
        message = tag_error(tag, scheme)
        if message:
            found.append((index, message))
        parsed.append(split_tag(tag))
    if found:
        return found
    previous_tag, previous = None, (OUTSIDE, None)
    for index, (tag, current) in enumerate(zip(tags, parsed)):
        after = f"after {previous_tag!r}" if previous_tag is not None else "at the sentence start"
        prefix, entity_type = current
        if scheme == "IOB2" and prefix == "I" and not _continues(previous, current):
            found.append((index, f"tag {tag!r} {after} (in IOB2 an entity starts with B-)"))
        elif scheme == "IOB1" and prefix == "B" and previous[1] != entity_type:
            found.append(
                (index, f"tag {tag!r} {after} (in IOB1, B- only follows an entity of its type)")
            )
        elif scheme == "BIOES":
            if prefix in ("I", "E") and not _continues(previous, current):
                found.append((index, f"tag {tag!r} {after} (in BIOES it must follow B- or I-)"))
            elif previous[0] in ("B", "I") and not _continues(previous, current):
                found.append(
                    (
                        index,
                        f"tag {tag!r} {after} (in BIOES, {previous_tag!r} must be followed by "
                        f"I-{previous[1]} or E-{previous[1]})",
                    )
                )
        previous_tag, previous = tag, current
    if scheme == "BIOES" and previous[0] in ("B", "I"):
        found.append(
            (len(tags), f"sentence ends after {previous_tag!r} (in BIOES an entity ends with E-)")
        )
    return found


def detect_scheme(tag_sequences):
    """Guess the scheme of a corpus: `"BIOES"`, `"IOB1"` or `"IOB2"`.

    BIOES if any tag has an E- or S- prefix. Otherwise IOB1 if some entity starts with I-
    (after O, another type, or at the sentence start) and no B- tag starts an entity after
    O or another type (IOB1 uses B- only between two entities of one type); otherwise IOB2,
    which is also the answer when both schemes read the corpus the same way.
    """
    b_starts = i_starts = False
    for tags in tag_sequences:
        previous = (OUTSIDE, None)
        for tag in tags:
            current = split_tag(tag)
            prefix, entity_type = current
            if prefix in ("E", "S"):
                return "BIOES"
            if prefix == "B" and previous[1] != entity_type:
                b_starts = True
            if prefix == "I" and not _continues(previous, current):
                i_starts = True
            previous = current
    return "IOB1" if i_starts and not b_starts else "IOB2"


def tag_set(entity_types, scheme):
    """All tags of `scheme` for the given types: `O`, then per type every prefix in order."""
    scheme = scheme_name(scheme)
    return [OUTSIDE] + [
        f"{prefix}-{entity_type}"
        for entity_type in sorted(entity_types)
        for prefix in PREFIXES[scheme]
    ]


def allowed_transitions(tags, scheme):
    """Which tag may follow which, start and end a sentence, in a valid sequence of `scheme`.

    Args:
        tags: The tag names (index i is tag id i).
        scheme: Their scheme.

    Returns:
        `(transitions, starts, ends)`: `transitions[i][j]` is True if tag j may follow tag
        i; `starts[j]` / `ends[j]` if tag j may begin / end a sentence. These are the
        constraints of `seqapps.layers.CRF`.
    """
    scheme = scheme_name(scheme)
    parsed = [split_tag(tag) for tag in tags]
    for tag, (prefix, _) in zip(tags, parsed):
        if prefix is None or tag_error(tag, scheme):
            raise ValueError(f"{tag!r} is not a {scheme} tag")

    def may_follow(previous, current):
        if scheme == "IOB2":
            return current[0] != "I" or _continues(previous, current)
        if scheme == "IOB1":
            return current[0] != "B" or previous[1] == current[1]
        # BIOES: an open entity (B, I) must continue; a closed state may not continue.
        if previous[0] in ("B", "I"):
            return _continues(previous, current)
        return current[0] not in ("I", "E")

    start = (OUTSIDE, None)
    transitions = [[may_follow(p, c) for c in parsed] for p in parsed]
    starts = [may_follow(start, c) for c in parsed]
    ends = [not (scheme == "BIOES" and p[0] in ("B", "I")) for p in parsed]
    return transitions, starts, ends


def is_valid(tags, scheme):
    """Whether a tag sequence is valid in `scheme` (no `problems`)."""
    return not problems(tags, scheme)


def entity_scores(gold_sequences, predicted_sequences, counts_mention=None):
    """Entity-level precision, recall and F1 with CoNLL's exact-match rule.

    An entity counts as correct only if a predicted entity has the same type and exactly
    the same tokens. Both sides are read with `spans` (any scheme, invalid sequences read
    leniently as `conlleval` does). On valid IOB2 input this equals
    `seqeval.metrics.classification_report(..., mode="strict", scheme=IOB2)`.

    `counts_mention(sentence_index, start, end)` (end exclusive), if given, restricts the
    scores to the mentions, gold and predicted, for which it is true (e.g. mentions of
    words never seen in training).

    Returns:
        A JSON-ready dict: `precision`, `recall`, `f1` (micro, over all entities),
        `gold_entities`, `predicted_entities`, `correct_entities`, `tokens`,
        `token_accuracy`, `sentences`, and `per_type`: `{type: {precision, recall, f1,
        support, predicted, correct}}` for every type seen on either side.
    """
    if len(gold_sequences) != len(predicted_sequences):
        raise ValueError(
            f"{len(gold_sequences)} gold sentences but {len(predicted_sequences)} predicted"
        )
    counts = {}
    tokens = correct_tokens = 0
    for index, (gold, predicted) in enumerate(zip(gold_sequences, predicted_sequences)):
        if len(gold) != len(predicted):
            raise ValueError(
                f"sentence {index}: {len(gold)} gold tags but {len(predicted)} predicted"
            )
        tokens += len(gold)
        correct_tokens += sum(g == p for g, p in zip(gold, predicted))
        gold_spans, predicted_spans = set(spans(gold)), set(spans(predicted))
        if counts_mention is not None:
            gold_spans = {s for s in gold_spans if counts_mention(index, s[1], s[2])}
            predicted_spans = {s for s in predicted_spans if counts_mention(index, s[1], s[2])}
        for entity_type, _, _ in gold_spans:
            counts.setdefault(entity_type, [0, 0, 0])[0] += 1
        for entity_type, _, _ in predicted_spans:
            counts.setdefault(entity_type, [0, 0, 0])[1] += 1
        for entity_type, _, _ in gold_spans & predicted_spans:
            counts[entity_type][2] += 1

    def prf(gold, predicted, correct):
        precision = correct / predicted if predicted else 0.0
        recall = correct / gold if gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return precision, recall, f1

    total = [sum(c[i] for c in counts.values()) for i in range(3)]
    precision, recall, f1 = prf(*total)
    per_type = {}
    for entity_type in sorted(counts):
        gold, predicted, correct = counts[entity_type]
        p, r, f = prf(gold, predicted, correct)
        per_type[entity_type] = {
            "precision": p,
            "recall": r,
            "f1": f,
            "support": gold,
            "predicted": predicted,
            "correct": correct,
        }
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "gold_entities": total[0],
        "predicted_entities": total[1],
        "correct_entities": total[2],
        "sentences": len(gold_sequences),
        "tokens": tokens,
        "token_accuracy": correct_tokens / tokens if tokens else 0.0,
        "per_type": per_type,
    }


def format_scores(scores):
    """A readable table of `entity_scores`' result, like conlleval's."""
    width = max([8, *(len(t) for t in scores["per_type"])])
    lines = [
        f"sentences {scores['sentences']}, tokens {scores['tokens']}, gold entities "
        f"{scores['gold_entities']}, predicted {scores['predicted_entities']}, correct "
        f"{scores['correct_entities']}",
        f"token accuracy {100 * scores['token_accuracy']:.2f}%",
        f"{'type':<{width}}  precision  recall      f1  support  predicted",
    ]
    rows = list(scores["per_type"].items()) + [("overall", scores)]
    for name, row in rows:
        support = row.get("support", scores["gold_entities"])
        predicted = row.get("predicted", scores["predicted_entities"])
        lines.append(
            f"{name:<{width}}  {100 * row['precision']:9.2f}  {100 * row['recall']:6.2f}  "
            f"{100 * row['f1']:6.2f}  {support:7d}  {predicted:9d}"
        )
    unseen = scores.get("unseen_mentions")
    if unseen:
        lines.append(
            f"{'unseen':<{width}}  {100 * unseen['precision']:9.2f}  {100 * unseen['recall']:6.2f}"
            f"  {100 * unseen['f1']:6.2f}  {unseen['gold_entities']:7d}  "
            f"{unseen['predicted_entities']:9d}   (mentions of words not seen in training)"
        )
    return "\n".join(lines)
