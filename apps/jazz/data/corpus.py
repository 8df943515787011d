"""`load_corpus`: the pieces of every `--data` spec, parsed once and then read from the cache."""

import dataclasses
import sys
import time
import warnings
from pathlib import Path

from apps.jazz.data import cache
from apps.jazz.data.parsing import SCORE_SUFFIXES, parse_score_file
from apps.jazz.data.pieces import CorpusReport, SourceError
from apps.jazz.data.wjazzd import is_wjazzd_dir, parse_wjazzd_solo, read_wjazzd_index
from seqapps.cli import UserError

# Bundled with music21, so the app runs without downloads: two lead sheets with
# chord symbols, and a piano rag whose left hand gives the chords.
DEFAULT_DATA = ["music21:leadSheet", "music21:joplin"]

# The progress bar appears once loading has taken this long (parsing one score can take
# seconds), whatever the number of files.
PROGRESS_DELAY_SECONDS = 1.0


@dataclasses.dataclass
class _Job:
    """One file (or WJazzD solo) to load: how to parse it and what its cache key covers.

    `parse` is "score", "wjazzd" or "missing" (a WJazzD solo whose files are absent);
    an empty `identity` is never cached.
    """

    label: str
    parse: str
    arguments: tuple
    identity: list


def _music21_corpus_files(name):
    from music21 import corpus

    if "/" in name or Path(name).suffix:
        try:
            found = corpus.getWork(name)
        except Exception:
            found = []
        found = found if isinstance(found, list) else [found]
        if found:
            return [Path(p) for p in found]
    files = [Path(p) for p in corpus.getComposer(name)]
    files = [p for p in files if p.suffix.lower() in SCORE_SUFFIXES]
    if not files:
        raise UserError(
            f"music21:{name}: music21's corpus has no composer, folder or work of that name"
        )
    return sorted(files)


def _score_files(directory):
    return sorted(
        path
        for path in Path(directory).rglob("*")
        if path.is_file() and path.suffix.lower() in SCORE_SUFFIXES
    )


def _wjazzd_jobs(directory):
    jobs = []
    for solo in read_wjazzd_index(directory):
        midi, beats = solo["midi"], solo["beats_csv"]
        if not midi.is_file() or not beats.is_file():
            jobs.append(_Job(solo["name"], "missing", (midi, beats), []))
            continue
        identity = [cache.file_identity(midi), cache.file_identity(beats)]
        jobs.append(
            _Job(
                label=str(midi),
                parse="wjazzd",
                arguments=(midi, beats, solo["name"], solo["group"]),
                identity=[*identity, solo["name"], solo["group"]],
            )
        )
    return jobs


def _jobs_for_spec(spec, melody_part):
    spec = str(spec)
    part = None if melody_part is None else str(melody_part)
    if spec.startswith("music21:"):
        files = _music21_corpus_files(spec.removeprefix("music21:"))
    else:
        path = Path(spec).expanduser()
        if not path.exists():
            raise UserError(f"--data {spec}: no such file or directory")
        if is_wjazzd_dir(path):
            return _wjazzd_jobs(path)
        files = _score_files(path) if path.is_dir() else [path]
        if path.is_dir() and not files:
            raise UserError(f"--data {spec}: folder holds no score or MIDI files")
    return [
        _Job(str(file), "score", (file, part), [cache.file_identity(file), part]) for file in files
    ]


def _run_job(job):
    if job.parse == "wjazzd":
        return parse_wjazzd_solo(*job.arguments)
    if job.parse == "missing":
        raise FileNotFoundError(f"missing {' or '.join(str(p) for p in job.arguments)}")
    return parse_score_file(*job.arguments)


def _from_cache(entry):
    """The pieces of a cache entry; None when there is none or it cannot be read (a miss)."""
    if entry is None or not entry.is_file():
        return None
    try:
        return cache.load_pieces(entry)
    except Exception:  # a truncated or foreign entry is a miss: parse and rewrite it
        return None


def _parse(job, entry, warn):
    """Parse a job's file and cache its pieces; a file that cannot be used is a `SourceError`.

    Warnings raised while parsing are passed to `warn`, naming the file.
    """
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            pieces = _run_job(job)
    except (UserError, SourceError):
        raise
    except Exception as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise SourceError(job.label, reason) from error
    for warning in caught:
        warn(f"warning: {job.label}: {warning.message}")
    if entry is not None:
        try:
            cache.save_pieces(entry, pieces)
        except OSError as error:
            warn(f"warning: cannot write cache {entry}: {error}")
    return pieces


def load_corpus(specs, melody_part=None, cache_dir=None, progress=True):
    """Load melodies and chords from files, folders, music21's corpus and WJazzD folders.

    A file that cannot be read, or holds no melody notes, is skipped with a warning
    on stderr naming it (for a WJazzD solo, the MIDI file or beats table at fault);
    when it is the only file, that is the `UserError` instead. A cache entry that
    cannot be read is a miss: the file is parsed again and the entry rewritten.

    Args:
        specs: One spec or a list: a score/MIDI file, a folder of them, `music21:<name>`,
            or a WJazzD folder (see `apps.jazz.data`). None or empty: `DEFAULT_DATA`.
        melody_part: The melody part of score files, by index or name (default: chosen
            per file, see `choose_melody_part`).
        cache_dir: Where parsed pieces are cached (default `default_cache_dir()`);
            False turns the cache off. Entries are keyed by each file's absolute path,
            size and modification time, `melody_part` and `REPRESENTATION_VERSION`.
        progress: Show a progress bar on stderr when loading takes more than
            `PROGRESS_DELAY_SECONDS`.

    Returns:
        `(pieces, report)`: a list of `Piece`s and a `CorpusReport`.

    Raises:
        UserError: A spec names nothing loadable, or no piece has melody notes.
    """
    from tqdm import tqdm

    started = time.perf_counter()
    if specs is None or (not isinstance(specs, str | Path) and not list(specs)):
        specs = DEFAULT_DATA
    if isinstance(specs, str | Path):
        specs = [specs]
    jobs = [job for spec in specs for job in _jobs_for_spec(spec, melody_part)]
    if cache_dir is None:
        cache_dir = cache.default_cache_dir()
    folder = Path(cache_dir) if cache_dir is not False else None

    report = CorpusReport()
    pieces = []
    bar = tqdm(
        total=len(jobs),
        desc="loading",
        unit="file",
        file=sys.stderr,
        disable=not progress,
        delay=PROGRESS_DELAY_SECONDS,
        leave=False,
    )

    def warn(message):  # through the bar, not over it
        bar.write(message, file=sys.stderr)

    def load(job):
        """The job's pieces, from the cache or parsed; `SourceError` when it gives none."""
        entry = None
        if folder is not None and job.identity:
            entry = folder / f"{cache.cache_key(job.parse, job.identity)}.npz"
        loaded = _from_cache(entry)
        if loaded is not None:
            report.from_cache += 1
        else:
            loaded = _parse(job, entry, warn)
        if not loaded:
            raise SourceError(job.label, "no melody notes")
        return loaded

    try:
        for job in jobs:
            try:
                loaded = load(job)
            except SourceError as error:
                if len(jobs) == 1:  # the only file: its problem is the error
                    raise UserError(str(error)) from None
                warn(f"warning: skipping {error}")
                report.skipped += 1
                report.skipped_files.append((error.path, error.reason))
                loaded = []
            for piece in loaded:
                pieces.append(piece)
                if piece.melody_part:
                    report.melody_parts[piece.name] = piece.melody_part
            bar.update()
    finally:
        bar.close()

    report.loaded = len(pieces)
    report.notes = sum(piece.notes for piece in pieces)
    report.steps = sum(piece.steps for piece in pieces)
    report.seconds = time.perf_counter() - started
    if not pieces or report.notes == 0:
        named = ", ".join(str(spec) for spec in specs)
        raise UserError(
            f"no melody notes in {named} ({report.skipped} file(s) skipped, see warnings)"
        )
    return pieces, report
