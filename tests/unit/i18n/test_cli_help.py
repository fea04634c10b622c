"""The CLI's help and human summaries follow --lang, then LANG: every command's and option's
help, Typer's own words (Usage, Options, [required]), the verdicts and tables' labels; JSON
stays as it is; click's own usage errors (a missing argument, an unknown option, a bad value,
extra arguments, an unknown command) too, exit code 2 on stderr, and click's text under
English. The English catalog holds the code's own help, so the two never drift."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

import pytest
from settings_for_tests import outside_checkout
from typer._click import exceptions as click_errors
from typer.main import get_command

from simkyc.cli.extract import cli_help, cli_ids
from simkyc.cli.help import lang_option, walk
from simkyc.cli.main import app
from simkyc.cli.usage import USAGE_IDS, catalog_say, localized_message
from simkyc.faces.reasons import ReviewCode, ReviewReason
from simkyc.i18n import catalogs
from simkyc.i18n.messages import face_reason

# A valid TD3 MRZ (ICAO 9303 part 4's specimen).
MRZ = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
       "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
# Program and command names, option values and data the help quotes as they are typed.
TYPED = {"simkyc", "lfw", "casia", "kpop", "apf", "lfw-east-asian", "headturn", "blink",
         "nuaa", "silent-face", "synthetic", "bona-fide", "speed", "cron", "systemd", "passport",
         "agent", "reviewer", "auditor", "admin", "en", "zh-CN", "OpenAPI", "export-proof",
         "verify-proof", "simkyc serve", "ANNA", "MARIA", "ERIKSSON"}


def english_sentences(text: str) -> list[str]:
    """Runs of two or more English words left in `text`, once what may stay as typed is
    removed: option names, metavars (<str>, {card_image}), codes and acronyms (upper case,
    CN_RESIDENT_ID), identifiers (turn_left, cn-resident-id, report.json, /v1/...), numbers,
    the commands' names, and the names and values of `TYPED`."""
    text = re.sub(r"--?[\w-]+|<[^>]*>|\{[^}]*\}|`[^`]*`|\S*[/_]\S*|\w+\.\w\S*"
                  r"|\b[A-Z][A-Z0-9]+\b", " ", text)
    commands = {words[-1] for words in _command_paths() if words}
    for word in sorted(TYPED | commands, key=len, reverse=True):
        text = re.sub(rf"(?<![\w-]){re.escape(word)}(?![\w-])", " ", text)
    return re.findall(r"[A-Za-z]{2,}(?:[ ,;:]+[A-Za-z]{2,})+", text)


def _simkyc(*args: str, lang: str = "zh_CN.UTF-8") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "SIMKYC_LANG")}
    return subprocess.run([sys.executable, "-m", "simkyc.cli", *args], capture_output=True,
                          text=True, timeout=120, check=False, cwd=outside_checkout(),
                          env=env | {"LANG": lang, "COLUMNS": "200"})


def _command_paths() -> list[list[str]]:
    """Every command and group of `simkyc`, as the words typed after it."""
    return [key.split(".")[1:] for key, item in walk(get_command(app))
            if not hasattr(item, "param_type_name")]


def test_the_detector_finds_an_english_sentence_and_spares_codes() -> None:
    assert english_sentences("Show this message and exit.") == ["Show this message and exit"]
    assert english_sentences("用法：simkyc document check [选项] {card_image} --id-number "
                             "<str> BAD_CHECK_DIGIT (校验码) cn-resident-id TD3 2012-04-15") == []


def test_every_commands_help_is_chinese_under_zh_cn() -> None:
    """One process prints the help of every command and group under LANG=zh_CN; each has
    Chinese text and no English sentence (it was all English)."""
    script = textwrap.dedent("""
        import sys
        from simkyc.cli.main import app
        from simkyc.cli.help import run
        for words in %r:
            print("=== " + " ".join(words))
            try:
                run(app, prog_name="simkyc", argv=[*words, "--help"])
            except SystemExit:
                pass
    """) % (_command_paths(),)
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "SIMKYC_LANG")}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300, check=False, cwd=outside_checkout(),
                          env=env | {"LANG": "zh_CN.UTF-8", "COLUMNS": "200"})
    pages = done.stdout.split("=== ")[1:]
    assert len(pages) == len(_command_paths()) > 20, done.stderr
    for page in pages:
        assert re.search(r"用法：.*[\u4e00-\u9fff]", page, re.S), page
        assert "显示本帮助并退出" in page, page
        assert english_sentences(page) == [], page


def test_lang_option_and_lang_choose_the_help_language() -> None:
    by_lang = _simkyc("--help")
    by_option = _simkyc("--lang", "zh-CN", "document", "check", "--help", lang="en_US.UTF-8")
    english = _simkyc("--lang=en", "document", "check", "--help")
    assert "核验身份证件号码和机读区" in by_lang.stdout and "选项" in by_lang.stdout
    assert "[必填]" in by_option.stdout and "[默认：cn-resident-id]" in by_option.stdout
    assert english_sentences(by_option.stdout) == []
    assert "Find the card, extract its portrait" in english.stdout
    assert "Show this message and exit." in english.stdout


def test_a_commands_summary_is_chinese_and_its_json_unchanged() -> None:
    mrz = _simkyc("document", "check-mrz", *MRZ, "--today", "2010-01-01")
    number = _simkyc("document", "check-number", "110105194912310021", "--type",
                     "cn-resident-id")
    bad_date = _simkyc("document", "check-number", "110105194912310021", "--type",
                       "cn-resident-id", "--today", "2010-13")
    as_json = _simkyc("document", "check-mrz", *MRZ, "--today", "2010-01-01", "--json")
    assert mrz.returncode == 0 and number.returncode == 1 and bad_date.returncode == 2
    assert mrz.stdout.startswith("有效  TD3 机读区") and "签发国" in mrz.stdout, mrz.stdout
    assert "校验码错误" in number.stdout and "北京市" in number.stdout, number.stdout
    assert "不是 YYYY-MM-DD 格式的日期" in bad_date.stderr, bad_date.stderr
    for done in (mrz, number, bad_date):
        assert english_sentences(done.stdout + done.stderr) == [], done.stdout + done.stderr
    english = _simkyc("document", "check-mrz", *MRZ, "--today", "2010-01-01", "--json",
                      lang="en_US.UTF-8")
    assert json.loads(as_json.stdout) == json.loads(english.stdout)


def test_the_english_catalog_holds_the_codes_own_help() -> None:
    """The English help is written in the code (docstrings, help=); the English catalog
    repeats it so every language has the same ids: they must say the same."""
    english = catalogs().messages["en"]
    stale = {k: (v, english.get(k)) for k, v in cli_help().items() if english.get(k) != v}
    assert stale == {}, "copy the code's help into catalogs/en.json (and translate it)"


def test_every_id_the_cli_uses_is_in_every_catalog() -> None:
    ids = cli_ids()
    assert len(ids) > 150
    for tag in catalogs().locales:
        assert sorted(ids - catalogs().messages[tag].keys()) == [], tag


def test_the_lang_option_is_read_before_the_parser() -> None:
    assert lang_option(["--lang", "zh-CN", "document", "--help"]) == "zh-CN"
    assert lang_option(["--lang=zh-CN", "verify"]) == "zh-CN"
    assert lang_option(["verify", "--", "--lang", "zh-CN"]) is None
    assert lang_option(["--help"]) is None


def test_a_face_review_reason_in_chinese_keeps_its_figures() -> None:
    reason = ReviewReason.of(ReviewCode.BETWEEN, score=0.4123, reject=0.3, accept=0.5)
    said = face_reason(catalogs(), "zh-CN", reason)
    assert said == "分数 0.412 介于拒绝阈值 0.300 与接受阈值 0.500 之间"


# Each kind of usage error, as the words typed after `simkyc`, with click's English sentence.
CASES = {
    "missing_argument": (["document", "check"], "Missing argument 'card_image'."),
    "no_such_option": (["document", "check", "x.jpg", "--nope"],
                       "No such option: --nope (Possible options: --name, --type)"),
    "bad_value": (["liveness", "check", "x.mp4", "--fps", "abc"],
                  "Invalid value for '--fps': Input should be a valid number, unable to "
                  "parse string as a number"),
    "missing_option": (["document", "check-number", "1"], "Missing option '--type'."),
    "extra_arguments": (["document", "check-number", "1", "2", "3", "--type", "cn-resident-id"],
                        "Got unexpected extra argument(s) (2 3)"),
    "no_such_command": (["nosuch"], "No such command 'nosuch'."),
    "did_you_mean": (["document", "check-nmber"], "No such command 'check-nmber'. Did you "
                     "mean 'check-number', 'check-mrz', 'check'?"),
    "requires_argument": (["document", "check", "x.jpg", "--name"],
                          "Option '--name' requires an argument."),
}


def _usage_error(words: list[str]) -> click_errors.UsageError:
    with pytest.raises(click_errors.UsageError) as raised:
        get_command(app).main(args=words, prog_name="simkyc", standalone_mode=False)
    return raised.value


def _errors_printed(lang: str) -> dict[str, tuple[int, str]]:
    """Every case run through `simkyc.cli.help.run` in one process under LANG=`lang`: its
    exit code and what it wrote on stderr."""
    script = textwrap.dedent("""
        import sys
        from simkyc.cli.main import app
        from simkyc.cli.help import run
        for name, words in %r:
            print("=== " + name, file=sys.stderr)
            try:
                run(app, prog_name="simkyc", argv=words)
            except SystemExit as done:
                print("=== exit %%s" %% done.code, file=sys.stderr)
    """) % ([(name, words) for name, (words, _) in CASES.items()],)
    env = {k: v for k, v in os.environ.items()
           if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "SIMKYC_LANG")}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300, check=False, cwd=outside_checkout(),
                          env=env | {"LANG": lang, "COLUMNS": "200"})
    out = {}
    chunks = done.stderr.split("=== ")[1:]
    for started, ended in zip(chunks[::2], chunks[1::2], strict=True):
        name, _, text = started.partition("\n")
        out[name] = (int(ended.split()[1]), text)
    assert out.keys() == CASES.keys(), done.stderr
    return out


def test_every_usage_error_is_chinese_under_zh_cn_with_exit_code_2() -> None:
    printed = _errors_printed("zh_CN.UTF-8")
    for name, (code, text) in printed.items():
        assert code == 2, (name, text)
        assert "错误" in text, (name, text)
        assert english_sentences(text) == [], (name, text)
        assert CASES[name][1] not in " ".join(text.split()), (name, text)
    assert "缺少参数 'card_image'" in printed["missing_argument"][1]
    assert "没有选项：--nope（可能的选项：--name, --type）" in printed["no_such_option"][1]
    assert "用法：simkyc document check" in printed["missing_argument"][1]
    assert "运行 'simkyc document check --help' 查看帮助" in printed["missing_argument"][1]


def test_every_usage_error_is_clicks_own_text_under_english() -> None:
    printed = _errors_printed("en_US.UTF-8")
    for name, (code, text) in printed.items():
        assert code == 2, (name, text)
        assert CASES[name][1] in " ".join(text.replace("│", " ").split()), (name, text)
    assert "Usage: simkyc document check" in printed["missing_argument"][1]
    assert "Try 'simkyc document check --help' for help." in printed["missing_argument"][1]


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_english_catalog_says_what_click_says(name: str) -> None:
    error = _usage_error(CASES[name][0])
    assert error.format_message() == CASES[name][1]
    assert localized_message(error, catalog_say(catalogs(), "en")) == CASES[name][1]
    chinese = localized_message(error, catalog_say(catalogs(), "zh-CN"))
    assert english_sentences(chinese) == [], chinese


def test_a_choice_and_a_bare_missing_parameter_are_translated() -> None:
    bare = click_errors.MissingParameter(param_type="parameter")
    assert localized_message(bare, catalog_say(catalogs(), "en")) == bare.format_message()
    assert localized_message(bare, catalog_say(catalogs(), "zh-CN")) == "缺少参数。"
    bad = click_errors.BadParameter("'x' is not one of 'a', 'b'.", param_hint="'--type'")
    assert localized_message(bad, catalog_say(catalogs(), "en")) == bad.format_message()
    assert (localized_message(bad, catalog_say(catalogs(), "zh-CN"))
            == "'--type' 的值无效：'x' 不在可选值 'a', 'b' 之中。")


def test_every_usage_id_is_in_every_catalog() -> None:
    for tag in catalogs().locales:
        assert sorted(USAGE_IDS - catalogs().messages[tag].keys()) == [], tag


def test_exit_ctrl_c_and_abort_keep_their_codes_under_zh_cn() -> None:
    """Without click's standalone mode `run` exits itself: a command's typer.Exit keeps its
    code, Ctrl-C exits 130 and an abort 1 with the catalog's word, as before."""
    script = textwrap.dedent("""
        import sys
        import typer
        from simkyc.cli.help import run
        app = typer.Typer()
        @app.command()
        def go(how: str) -> None:
            if how == "exit":
                raise typer.Exit(3)
            if how == "abort":
                raise typer.Abort()
            if how == "interrupt":
                raise KeyboardInterrupt
        @app.command()
        def fine() -> None:
            pass
        try:
            run(app, prog_name="t", argv=sys.argv[1:])
        except SystemExit as done:
            print("exit", done.code)
    """)
    env = {k: v for k, v in os.environ.items()
           if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "SIMKYC_LANG")}
    said = {how: subprocess.run([sys.executable, "-c", script, *words], capture_output=True,
                                text=True, timeout=120, check=False, cwd=outside_checkout(),
                                env=env | {"LANG": "zh_CN.UTF-8"})
            for how, words in (("exit", ["go", "exit"]), ("abort", ["go", "abort"]),
                               ("interrupt", ["go", "interrupt"]), ("fine", ["fine"]))}
    assert said["exit"].stdout.strip() == "exit 3"
    assert said["interrupt"].stdout.strip() == "exit 130"
    assert said["abort"].stdout.strip() == "exit 1" and "已中止" in said["abort"].stderr
    assert said["fine"].stdout.strip() == "exit 0"
