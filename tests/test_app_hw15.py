"""The HW15 preset on the live Omniglot page (AppTest) and on the command line: it sets the
homework's settings, explicit choices override them, and the accuracy chart carries the
homework's four pass lines, labelled as measured on the homework's own test set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from mamlviz import checkpoint as ckpt
from mamlviz.cli import main
from mamlviz.config import PRESET_REFERENCES, TrainConfig, preset_settings
from mamlviz.errors import ConfigError
from mamlviz.figures.omniglot import live_training_figure

torch.set_num_threads(1)

OMNIGLOT_PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "omniglot.py")
HW15 = {"n_way": 5, "k_shot": 1, "n_query": 1, "inner_lr": 0.4, "meta_lr": 0.001,
        "meta_batch_size": 32, "inner_steps": 1, "val_inner_steps": 3, "test_inner_steps": 10,
        "outer_optimizer": "adam", "protocol": "lake"}


def test_hw15_preset_holds_the_homeworks_settings() -> None:
    settings = preset_settings("hw15")
    assert {k: settings[k] for k in HW15} == HW15 and settings["algorithm"] == "maml"
    assert PRESET_REFERENCES["hw15"] == {"simple": 0.61562, "medium": 0.69250,
                                         "strong": 0.86125, "boss": 0.93562}
    config = TrainConfig.for_algorithm("maml", **{k: v for k, v in settings.items()
                                                   if k != "algorithm"})
    assert (config.inner_steps, config.steps_in_validation, config.steps_at_test) == (1, 3, 10)
    with pytest.raises(ConfigError, match="unknown preset"):
        preset_settings("hw99")


def test_cli_hw15_preset_ends_with_its_settings(omniglot, omniglot_source: Path, tmp_path: Path,
                                                capsys) -> None:
    out = tmp_path / "hw15.pt"
    rc = main(["train", "omniglot", "--preset", "hw15", "--iterations", "2", "--out", str(out),
               "--device", "cpu", "--omniglot", str(omniglot_source), "--json"])
    assert rc == 0
    lines = capsys.readouterr().out.strip().splitlines()
    result = json.loads(lines[-1])  # one JSON object, last
    assert result["preset"] == "hw15" and result["status"] == "done" and result["step"] == 2
    settings = result["settings"]
    assert {k: settings[k] for k in HW15} == HW15 and settings["algorithm"] == "maml"
    saved = ckpt.load(out)
    assert saved.config["n_query"] == 1 and saved.metrics["training_split"]["protocol"] == "lake"


def test_cli_flags_override_the_preset(omniglot, omniglot_source: Path, tmp_path: Path,
                                       capsys) -> None:
    rc = main(["train", "omniglot", "--preset", "hw15", "--algorithm", "fomaml",
               "--inner-lr", "0.1", "--meta-batch-size", "2", "--iterations", "1",
               "--out", str(tmp_path / "x.pt"), "--device", "cpu",
               "--omniglot", str(omniglot_source), "--json"])
    assert rc == 0
    settings = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["settings"]
    assert (settings["algorithm"], settings["inner_lr"], settings["meta_batch_size"]) == (
        "fomaml", 0.1, 2)
    assert (settings["n_query"], settings["test_inner_steps"]) == (1, 10)  # from the preset


def test_cli_without_algorithm_or_preset_says_so(tmp_path: Path, capsys) -> None:
    out = tmp_path / "unused.pt"
    rc = main(["train", "omniglot", "--iterations", "1", "--out", str(out), "--json"])
    assert rc == 2
    error = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert error["field"] == "algorithm"
    assert not out.exists()


def test_figure_draws_reference_lines() -> None:
    fig = live_training_figure({}, {}, {}, 5, references={"HW15 boss": 0.93562},
                               labels={"reference": "{name} = {value:.2f}%"})
    shapes = {s.name: s.y0 for s in fig.layout.shapes}
    assert shapes["reference:HW15 boss"] == pytest.approx(93.562)
    assert "HW15 boss = 93.56%" in [a.text for a in fig.layout.annotations]


@pytest.mark.usefixtures("app_without_omniglot")
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_live_page_hw15_preset(monkeypatch: pytest.MonkeyPatch, omniglot_source: Path,
                               omniglot, lang: str) -> None:
    monkeypatch.setenv("MAMLVIZ_OMNIGLOT", str(omniglot_source))
    # The session's preprocessed cache (the omniglot fixture's): not preprocessed again.
    monkeypatch.setenv("MAMLVIZ_CACHE", str(omniglot.cache_path.parent.parent))
    at = AppTest.from_file(OMNIGLOT_PAGE, default_timeout=300)
    at.session_state["lang"] = lang
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    at.selectbox(key="omni_live_preset").set_value("hw15").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.select_slider(key="omni_live_n").value == 5
    assert at.select_slider(key="omni_live_k").value == 1
    assert at.slider(key="omni_live_batch").value == 32
    assert at.number_input(key="omni_live_lr_5").value == pytest.approx(0.4)
    assert at.number_input(key="omni_live_meta_lr").value == pytest.approx(0.001)
    # The page says why the homework's 0.4 is not the paper's 0.4.
    assert any("HW15" in c.value and "0.08" in c.value and "2.0" in c.value for c in at.caption)
    # A short run: explicit choices (meta-batch 2, one iteration) override the preset.
    at.multiselect(key="omni_algorithms").set_value(["maml"])
    at.number_input(key="omni_live_iters").set_value(1)
    at.slider(key="omni_live_batch").set_value(2)
    at.button(key="omni_train").click().run()
    assert not at.exception, [e.value for e in at.exception]
    run = at.session_state["omni_live_run"]
    assert run.join(timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    config = run.configs["maml"]
    assert (config.n_query, config.inner_steps, config.steps_in_validation,
            config.steps_at_test, config.protocol, config.meta_batch_size) == (
        1, 1, 3, 10, "lake", 2)
    assert run.snapshot().status == {"maml": "done"}
    spec = json.loads(at.session_state["_live_chart_spec_omni_live_chart"][1])
    lines = {s["name"]: s["y0"] for s in spec["layout"]["shapes"]
             if s.get("name", "").startswith("reference:")}
    assert sorted(lines.values()) == pytest.approx([61.562, 69.25, 86.125, 93.562])
    labels = [a["text"] for a in spec["layout"]["annotations"]]
    own = "homework's own test set" if lang == "en" else "作业自己的测试集"
    assert sum(own in text for text in labels) == 4
