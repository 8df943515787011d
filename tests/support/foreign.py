"""Running one app's scripts on another app's model: the command lines of every script."""

APPS = ("sentiment", "ner", "jazz", "names")


def foreign_scripts(owner):
    """Every predict/evaluate/export script of the apps other than `owner`."""
    return [
        f"apps.{app}.{name}"
        for app in APPS
        if app != owner
        for name in ("predict", "evaluate", "export")
    ]


def foreign_model_argv(script, model, tmp_path):
    """The arguments that run `script` on `model` with small valid inputs of its own app."""
    table = tmp_path / "dev.csv"
    table.write_text("text,label\nfine,pos\nbad,neg\n", encoding="utf-8")
    conll = tmp_path / "dev.conll"
    conll.write_text("Paris B-LOC\n", encoding="utf-8")
    extra = {
        "apps.sentiment.predict": ["some text"],
        "apps.sentiment.evaluate": ["--data", str(table)],
        "apps.ner.predict": ["some text"],
        "apps.ner.evaluate": ["--data", str(conll)],
        "apps.names.predict": [],
        "apps.names.evaluate": ["--score", "abc"],
        "apps.jazz.predict": ["--chords", "C7", "--out", str(tmp_path / "solo.mid")],
        "apps.jazz.evaluate": [],
    }.get(script, ["--out", str(tmp_path / "exported")])
    return ["--model", str(model), *extra]


def expected_app(script):
    """How the refusal names the app whose model `script` expected."""
    app = script.split(".")[1]
    return "an NER model" if app == "ner" else f"a {app} model"
