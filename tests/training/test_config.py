"""The typed training config: flags from its fields, one set of checks, unknown defaults refused."""

import argparse
import dataclasses

import pytest

from seqapps.cli import make_parser
from seqapps.errors import UserError
from seqapps.training import TrainingConfig, add_training_arguments


def parser_with(**defaults):
    return add_training_arguments(make_parser("apps.test.train", "test"), **defaults)


def test_every_field_is_a_flag_with_the_application_default():
    parser = parser_with(epochs=8, cell="gru", bidirectional=False, recurrent_dropout=0.25)
    options = parser.parse_args([])
    config = TrainingConfig.from_options(options)
    assert {f.name for f in dataclasses.fields(TrainingConfig)} <= set(vars(options))
    assert (config.epochs, config.cell, config.bidirectional) == (8, "gru", False)
    assert config.recurrent_dropout == 0.25
    assert config.lr == TrainingConfig().lr


def test_flags_parse_into_the_config():
    argv = ["--batch-size", "16", "--no-bidirectional", "--mixed-precision", "--jit"]
    config = TrainingConfig.from_options(parser_with().parse_args(argv))
    assert config.batch_size == 16
    assert config.bidirectional is False
    assert config.mixed_precision == "auto"
    assert config.jit is True


def test_an_unknown_default_is_an_error():
    with pytest.raises(TypeError, match="unknown training default.*plateu"):
        parser_with(plateu=2)


def test_from_options_ignores_application_flags():
    namespace = argparse.Namespace(**vars(parser_with().parse_args([])), data="train.txt")
    assert not hasattr(TrainingConfig.from_options(namespace), "data")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--dropout", "1"], "--dropout must be in [0, 1); received 1.0"),
        (["--recurrent-dropout", "-0.1"], "--recurrent-dropout must be in [0, 1)"),
        (["--plateau", "-1"], "--plateau must be 0 (off) or a positive integer"),
        (["--plateau-factor", "1"], "--plateau-factor must be in (0, 1)"),
        (["--batch-size", "0"], "--batch-size must be a positive integer; received 0"),
        (["--lr-decay", "1.5"], "--lr-decay must be in (0, 1]"),
    ],
)
def test_flags_and_keywords_share_one_check(argv, message, capsys):
    with pytest.raises(SystemExit) as stopped:
        parser_with().parse_args(argv)
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err
    name = argv[0][2:].replace("-", "_")
    value = type(getattr(TrainingConfig(), name))(argv[1])
    with pytest.raises(UserError) as refused:
        TrainingConfig(**{name: value})
    assert message in str(refused.value)


def test_conflicting_run_options_are_refused():
    with pytest.raises(UserError, match="--overwrite and --resume contradict"):
        TrainingConfig(overwrite=True, resume=True)


def test_the_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        TrainingConfig().epochs = 3
