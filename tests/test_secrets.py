"""A key planted in every place a key can be written (right and wrong) never shows: not in
reprs, errors, explain, the CLI's output (text and JSON) or any log, DEBUG included."""

from __future__ import annotations

import contextlib
import json
import logging
from pathlib import Path

import pytest

from agent import ConfigError, Pipeline, Request, load_config
from agent.cli import main
from agent.explain import dumps
from agent.integrations.anthropic import anthropic_client
from tests.builders import SECRET

HEAD = "    base_url: https://open.markhub.top\n    model: mimo-v2.5-pro\n"
HEAD += "    api_mode: anthropic_messages\n"


def _provider(key_lines: str, base_url: str = "https://open.markhub.top") -> str:
    head = HEAD.replace("https://open.markhub.top", base_url)
    return "providers:\n  p:\n" + head + key_lines


#: name -> (file suffix, text); ${AGENT_SECRET} is set to the key in the environment
PLACES: dict[str, tuple[str, str]] = {
    "inline": (".yaml", _provider(f"    api_key: {SECRET}\n")),
    "inline-quoted": (".yaml", _provider(f'    api_key: "{SECRET}"\n')),
    "interpolated": (".yaml", _provider("    api_key: ${AGENT_SECRET}\n")),
    "interpolated-in-text": (".yaml", _provider("    api_key: Bearer ${AGENT_SECRET}\n")),
    "api-key-env": (".yaml", _provider("    api_key_env: AGENT_SECRET\n")),
    "hermes-key-env": (".yaml", _provider("    key_env: AGENT_SECRET\n")),
    "custom-providers": (
        ".yaml",
        "custom_providers:\n  - name: p\n"
        + HEAD.replace("    ", "    ", 1)
        + f"    api_key: {SECRET}\n",
    ),
    "toml-inline": (
        ".toml",
        '[providers.p]\nbase_url = "https://open.markhub.top"\nmodel = "m"\n'
        f'api_key = "{SECRET}"\n',
    ),
    "yaml-alias": (".yaml", f"keys: {{k: &k {SECRET}}}\n" + _provider("    api_key: *k\n")),
    "yaml-merge-key": (
        ".yaml",
        f"base: &b {{api_key: {SECRET}}}\nproviders:\n  p:\n    <<: *b\n" + HEAD,
    ),
    "url-password": (".yaml", _provider("", f"https://user:{SECRET}@open.markhub.top/v1")),
    "url-query": (".yaml", _provider("", f"https://open.markhub.top/v1?key={SECRET}&x=1")),
    "foreign-top-level-key": (".yaml", f"openai_api_key: {SECRET}\n" + _provider("")),
    "hermes-own-key": (".yaml", _provider(f"    request_headers: {{Authorization: {SECRET}}}\n")),
    # wrong: each must fail at load without echoing the key
    "key-under-api-key-env": (".yaml", _provider(f"    api_key_env: {SECRET}\n")),
    "key-under-key-env": (".yaml", _provider(f"    key_env: {SECRET}\n")),
    "key-as-variable-name": (".yaml", _provider("    api_key: ${" + SECRET + "}\n")),
    "key-in-a-list": (".yaml", _provider(f"    api_key: [{SECRET}]\n")),
    "key-as-a-mapping": (".yaml", _provider(f"    api_key: {{value: {SECRET}}}\n")),
    "key-with-a-tag": (".yaml", _provider(f"    api_key: !secret {SECRET}\n")),
    "key-near-miss": (".yaml", _provider(f"    apikey: {SECRET}\n")),
    # a key written as a YAML token: PyYAML's own messages quote the token
    "key-as-an-alias": (".yaml", _provider(f"    api_key: *{SECRET}\n")),
    "key-as-a-tag": (".yaml", _provider(f"    api_key: !{SECRET} x\n")),
    "key-as-a-tag-handle": (".yaml", _provider(f"    api_key: !{SECRET}!x y\n")),
    "key-as-a-verbatim-tag": (".yaml", _provider(f"    api_key: !<{SECRET}> x\n")),
    "key-as-an-alias-key": (".yaml", _provider(f"    *{SECRET} : x\n")),
    "key-under-an-int-tag": (".yaml", _provider(f"    api_key: !!int {SECRET}\n")),
    "key-twice": (".yaml", _provider(f"    api_key: {SECRET}\n    api_key: {SECRET}\n")),
    "yaml-error-on-key-line": (".yaml", _provider(f"    api_key: {SECRET}: [\n")),
    "yaml-error-after-key": (".yaml", _provider(f"    api_key: {SECRET}\n  bad: [\n")),
    "toml-error-on-key-line": (
        ".toml",
        f'[providers.p]\nmodel = "m"\napi_key = "{SECRET}" junk\n',
    ),
    "toml-key-unquoted": (".toml", f'[providers.p]\nmodel = "m"\napi_key = {SECRET}\n'),
    "bad-base-url-with-key": (".yaml", _provider("", f"http://[::1?key={SECRET}")),
    "both-key-and-env": (
        ".yaml",
        _provider(f"    api_key: {SECRET}\n    api_key_env: AGENT_SECRET\n"),
    ),
}

#: the places that are wrong: each fails at load
WRONG = {
    "key-under-api-key-env",
    "key-under-key-env",
    "key-as-variable-name",
    "key-in-a-list",
    "key-as-a-mapping",
    "key-with-a-tag",
    "key-near-miss",
    "key-as-an-alias",
    "key-as-a-tag",
    "key-as-a-tag-handle",
    "key-as-a-verbatim-tag",
    "key-as-an-alias-key",
    "key-under-an-int-tag",
    "key-twice",
    "yaml-error-on-key-line",
    "yaml-error-after-key",
    "toml-error-on-key-line",
    "toml-key-unquoted",
    "bad-base-url-with-key",
}
#: api_key wins over api_key_env (hermes configs may carry both)

BODY = {
    "model": "mimo-v2.5-pro",
    "max_tokens": 10,
    "messages": [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "c1", "name": "r"}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "c1"}]},
    ],
}


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with contextlib.suppress(SystemExit):
        main(argv)
    out, err = capsys.readouterr()
    return out + err


@pytest.mark.parametrize("place", list(PLACES), ids=list(PLACES))
def test_the_key_never_shows(
    place: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    suffix, text = PLACES[place]
    monkeypatch.setenv("AGENT_SECRET", SECRET)
    monkeypatch.chdir(tmp_path)
    path = tmp_path / f"agent{suffix}"
    path.write_text(text)
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []

    try:
        config = load_config(path)
    except ConfigError as exc:
        seen += [str(exc), repr(exc), repr(exc.args), exc.problem, exc.entry]
        config = None
    assert (config is None) == (place in WRONG)
    if config is not None:
        seen += [repr(config), str(config), repr(config.providers)]
        for name, provider in config.providers.items():
            seen += [repr(provider), str(provider), provider.api_key_source]
            pipe = Pipeline.from_config(config, provider=name)
            request = Request(
                api=provider.api_mode, base_url=provider.base_url, body=BODY, provider=name
            )
            explanation = pipe.explain(request)
            seen += [repr(pipe), repr(request), repr(explanation), dumps(explanation.to_dict())]
            seen += [repr(pipe(request)), str(explanation)]
            if provider.api_mode == "anthropic_messages":
                client = anthropic_client(config, provider=name)
                seen.append(repr(client))
            body = tmp_path / "b.json"
            body.write_text(json.dumps(BODY))
            for extra in ([], ["--json"]):
                seen.append(
                    _cli(
                        ["preview", str(body), "--config", str(path), "--provider", name, *extra],
                        capsys,
                    )
                )
    for extra in ([], ["--json"]):
        seen.append(_cli(["check", str(path), *extra], capsys))
        seen.append(_cli(["families", "--config", str(path), *extra], capsys))
    seen.append(caplog.text)
    seen.append(repr([r.__dict__ for r in caplog.records]))

    leaks = [s[:200] for s in seen if SECRET in s]
    assert not leaks, leaks
