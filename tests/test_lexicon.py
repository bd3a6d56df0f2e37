"""The pronunciation lexicon, the names finder and the script check: pure text, no engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_tts.engines.registry import load_settings
from tui_tts.errors import ConfigError
from tui_tts.models import Document, Section
from tui_tts.run.language import check_voice
from tui_tts.text.lexicon import Entry, Lexicon, configured_lexicon, load_lexicon
from tui_tts.text.loading import load_document
from tui_tts.text.names import find_names, lexicon_starter
from tui_tts.text.script import guess_script

REPO = Path(__file__).resolve().parent.parent


def test_whole_words_case_and_regex() -> None:
    lexicon = Lexicon([
        Entry("hermione", "her-my-oh-nee"), Entry("Nice", "Neece"), Entry("New York", "Noo York"),
        Entry("New", "Nu"), Entry(r"\bDr\.", "Doctor", regex=True), Entry(r"(\d+)km", r"\1 kilometres", regex=True),
        Entry("北京", "Beijing"),
    ])  # fmt: skip
    text = "Hermione, HERMIONE and hermione met in Nice; a nice New York New day. Dr. Hermiones ran 5km in 北京市."
    assert lexicon.apply(text) == (
        "Her-my-oh-nee, HER-MY-OH-NEE and her-my-oh-nee met in Neece; a nice Noo York Nu day. Doctor Hermiones ran "
        "5 kilometres in Beijing市."
    )
    assert lexicon.digest and lexicon.digest != Lexicon([Entry("hermione", "x")]).digest
    assert not Lexicon() and Lexicon().apply(text) == text


def test_tsv_and_toml_files_read_alike(tmp_path: Path) -> None:
    tsv = tmp_path / "words.tsv"
    tsv.write_text("# names\nhermione\ther-my-oh-nee\n\nre:(\\d+)km\t\\1 kilometres\t# units\n", encoding="utf-8")
    toml = tmp_path / "words.toml"
    toml.write_text('[words]\nhermione = "her-my-oh-nee"\n[regex]\n\'(\\d+)km\' = "\\\\1 kilometres"\n')
    text = "Hermione ran 5km."
    assert load_lexicon(tsv).apply(text) == load_lexicon(toml).apply(text) == "Her-my-oh-nee ran 5 kilometres."
    assert load_lexicon(tsv).digest == load_lexicon(toml).digest  # the same entries, whatever the file form
    config = tmp_path / "conf" / "config.toml"
    config.parent.mkdir()
    (config.parent / "mine.tsv").write_text("a\tb\n")
    assert configured_lexicon("mine.tsv", config).apply("a") == "b"  # relative to the config file's folder


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("a.tsv", "hermione her-my-oh-nee\n", "line 1: expected 'word<TAB>replacement'"),
        ("a.tsv", "ok\tfine\nre:([a-z\tx\n", "line 2: bad regular expression '([a-z'"),
        ("a.tsv", "re:(a)\t\\2\n", "invalid group reference 2"),
        ("a.tsv", "re:x*\ty\n", "matches empty text"),
        ("a.tsv", "\tnothing\n", "line 1: the word before the tab is empty"),
        ("a.toml", "[words\n", "invalid TOML"),
        ("a.toml", "[names]\na = 'b'\n", "unknown table or key 'names'"),
        ("a.toml", "[words]\na = 3\n", "the replacement must be a string"),
    ],
)
def test_a_bad_lexicon_is_one_line_naming_the_place(tmp_path: Path, name: str, content: str, expected: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_lexicon(path)
    assert expected in caught.value.message and str(path) in caught.value.message
    assert "\n" not in caught.value.message
    with pytest.raises(ConfigError, match="lexicon file not found"):
        load_lexicon(tmp_path / "missing.tsv")


def test_names_lists_proper_nouns_and_odd_words_with_a_sample() -> None:
    document = load_document(REPO / "examples" / "alice-rabbit-hole.txt")
    findings = {finding.word: finding for finding in find_names(document)}
    assert findings["Alice"].kind == "name" and findings["Alice"].count == 6
    assert "thought Alice" in findings["Alice"].sample  # a sentence where it is written as a name
    assert not {"The", "She", "I", "It", "Down", "ORANGE", "MARMALADE"} & set(findings)  # starts, "I", shouting
    odd = find_names(Document("t", (Section("t", "He said tsk and pfft to Ngũgĩ at the qanat, and Ngũgĩ left."),)))
    assert {f.word: f.kind for f in odd} == {"tsk": "rare", "pfft": "rare", "Ngũgĩ": "name", "qanat": "rare"}
    starter = lexicon_starter(find_names(document))
    assert "\nAlice\tAlice\n" in starter


ZH = Document("t", (Section("t", "我们今天去北京看朋友。天气很好，大家都很高兴。" * 10),))
JA = Document("t", (Section("t", "今日は東京へ行きます。とても楽しいです。" * 10),))
EN = Document("t", (Section("t", "Alice was beginning to get very tired of sitting by her sister."),))


def test_scripts_are_told_apart() -> None:
    guesses = [guess_script(document) for document in (ZH, JA, EN)]
    assert [g.script if g else None for g in guesses] == ["han", "japanese", "latin"]


def test_local_voice_is_chosen_for_the_script_unless_named() -> None:
    assert check_voice(load_settings(), ZH).settings.engine_section().voice == "cmn"
    assert check_voice(load_settings(), JA).settings.engine_section().voice == "ja"
    english = check_voice(load_settings(), EN)
    assert english.settings.engine_section().voice == "en-us" and not english.notices
    named = check_voice(load_settings(None, {"local": {"voice": "en-us"}}), ZH)
    assert named.settings.engine_section().voice == "en-us"
    [(level, message)] = named.notices
    assert level == "warning" and "Chinese" in message and "--voice cmn" in message


def test_remote_voices_that_do_not_fit_are_warned_about() -> None:
    job_input = {"text": "{text}", "voice": "af_heart"}
    runpod = {"engine": "runpod", "runpod": {"endpoint_url": "http://127.0.0.1:1", "input": job_input}}
    [(level, message)] = check_voice(load_settings(None, runpod), ZH).notices
    assert level == "warning" and "'af_heart'" in message and "Chinese" in message
    assert not check_voice(load_settings(None, runpod), EN).notices
    assert not check_voice(load_settings(None, {"engine": "openai"}), ZH).notices  # alloy speaks any language
    kokoro_zh = {"engine": "openai", "openai": {"voice": "zf_xiaobei"}}
    assert not check_voice(load_settings(None, kokoro_zh), ZH).notices
    assert check_voice(load_settings(None, kokoro_zh), EN).notices
