"""`realitygap simulate --prompt`: prints the chosen spec, records the prompt and the context-setup cost."""

import json

import pytest

from realitygap.episode.types import Context, context_setup_cost
from tests.helpers import run_cli

FAST = ["--size", "32", "--sensors", "rgb"]
PROMPT = "A green ball 10 cm in diameter is released from a height of 6 ft"


def only_episode(root):
    (folder,) = (root / "episodes" / "sim").iterdir()
    return folder


def test_prompt_prints_spec_and_records_prompt_and_cost(encoder, tmp_path, capsys):
    code, out, err = run_cli(["simulate", "--prompt", PROMPT, "--out", tmp_path / "a", *FAST], capsys)
    assert code == 0, err
    for text in ("scenario drop", "height_m", "1.8288", "prompt: 'height of 6 ft'", "radius_m", "0.05",
                 "prompt: '10 cm in diameter'", "colour", "green", "similarity", "runner-up", "simulated 1 episodes"):
        assert text in out, text
    meta = json.loads((only_episode(tmp_path / "a") / "episode.json").read_text())
    context = Context.model_validate(meta["context"])
    assert context.prompt == PROMPT and context.scenario == "drop"
    assert context.params == {"height_m": 1.8288, "radius_m": 0.05, "colour": "green"}
    assert meta["cost"]["context_setup"] == context_setup_cost(context)
    assert meta["cost"]["context_setup"]["prompt_chars"] == len(PROMPT)
    assert meta["cost"]["context_setup"]["prompt_words"] == 15  # counted by hand
    timing = json.loads((only_episode(tmp_path / "a") / "timing.json").read_text())["context_setup"]
    assert timing["parse_wall_s"] > 0 and timing["encoder_load_s"] > 0 and timing["prompt_tokens"] > 14

    code, _, _ = run_cli(["simulate", "--prompt", PROMPT, "--out", tmp_path / "b", *FAST], capsys)
    assert code == 0
    first, second = only_episode(tmp_path / "a"), only_episode(tmp_path / "b")
    assert first.name == second.name
    assert (first / "episode.json").read_bytes() == (second / "episode.json").read_bytes()


def test_scenario_runs_record_the_template_prompt_cost(tmp_path, capsys):
    code, out, _ = run_cli(["simulate", "drop", "--out", tmp_path, *FAST], capsys)
    assert code == 0 and "similarity" not in out
    folder = only_episode(tmp_path)
    meta = json.loads((folder / "episode.json").read_text())
    context = Context.model_validate(meta["context"])
    assert meta["cost"]["context_setup"]["prompt_chars"] == len(context.prompt) > 50  # the scenario's template
    assert "context_setup" not in json.loads((folder / "timing.json").read_text())


@pytest.mark.parametrize("args, fragment", [
    (["simulate", "drop", "--prompt", "a ball dropped from 1 m"], "exactly one of them"),
    (["simulate"], "exactly one of them"),
    (["simulate", "--prompt", "bake a chocolate cake"], "describes none of the scenarios"),
    (["simulate", "--prompt", "a ball dropped from 20 ft"], "drop height_m = 6.096 m"),
    (["simulate", "--prompt", "a ball dropped from 1 m", "--param", "radius_m=2"], "outside its domain"),
])
def test_prompt_errors_are_one_line(encoder, tmp_path, capsys, args, fragment):
    code, _, err = run_cli([*args, "--out", tmp_path / "d", *FAST], capsys)
    assert code == 2 and fragment in err and err.startswith("error: ") and err.count("\n") == 1
    assert not (tmp_path / "d").exists()
