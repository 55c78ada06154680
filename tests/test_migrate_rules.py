"""The pure rules of `bridge migrate`: Vault names, grouping, the apply plan, and the cleanup edits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bridge.core.refs import id_problem
from bridge.migrate.cleanup import embedded_in, env_without, plan_cleanup, profiles_without, replace_values, without_pointer
from bridge.migrate.places import AUTH_PROFILE, CONFIG, ENV, FILE_REF, Found, Place, group, name_for
from bridge.migrate.plan import build_plan
from bridge.openclaw.config import env_names_used
from bridge.openclaw.documents import pointer_parts
from bridge.openclaw.surface import target_type


def config_place(path: str) -> Place:
    return Place(CONFIG, "/h/.openclaw/openclaw.json", tuple(path.split(".")))


@pytest.mark.parametrize(
    ("place", "name"),
    [
        (config_place("models.providers.openai.apiKey"), "OPENAI_API_KEY"),
        (config_place("gateway.auth.token"), "OPENCLAW_GATEWAY_TOKEN"),
        (config_place("channels.telegram.botToken"), "TELEGRAM_BOT_TOKEN"),
        (config_place("channels.telegram.accounts.work.botToken"), "TELEGRAM_WORK_BOT_TOKEN"),
        (config_place("skills.entries.weather.apiKey"), "WEATHER_SKILL_API_KEY"),
        (config_place("plugins.entries.google.config.webSearch.apiKey"), "GOOGLE_WEB_SEARCH_API_KEY"),
        (config_place("models.providers.my-llm.headers.X-Api-Key"), "MY_LLM_HEADERS_X_API_KEY"),
        (Place(ENV, "/h/.openclaw/.env", ("GEMINI_API_KEY",)), "GEMINI_API_KEY"),
        (Place(AUTH_PROFILE, "s.sqlite", ("profiles", "anthropic:manual", "key"), "main", "anthropic"), "ANTHROPIC_API_KEY"),
        (Place(AUTH_PROFILE, "s.sqlite", ("profiles", "openai:work", "key"), "main", "openai"), "OPENAI_WORK_API_KEY"),
        (Place(AUTH_PROFILE, "s.sqlite", ("profiles", "github:manual", "token"), "main", "github"), "GITHUB_TOKEN"),
    ],
)
def test_names_are_readable_and_valid_ref_ids(place: Place, name: str) -> None:
    assert name_for(place) == name
    assert id_problem(name) is None


def test_a_value_seen_twice_is_stored_once_under_its_env_name_and_clashing_names_are_numbered_stably() -> None:
    env = Place(ENV, "/h/.env", ("OPENAI_API_KEY",))
    field = config_place("models.providers.openai.apiKey")
    other = config_place("models.providers.openai.headers.x")
    a, b = "value-aaa-1", "value-bbb-2"
    found = [Found(field, a), Found(env, a), Found(Place(AUTH_PROFILE, "s", ("profiles", "openai:manual", "key"), "main", "openai"), b)]
    moves = group(found)
    assert [(m.name, m.places) for m in moves if m.value == a] == [("OPENAI_API_KEY", (env, field))]
    assert [m.name for m in moves if m.value == b] == ["OPENAI_API_KEY_2"]
    assert [m.name for m in group(list(reversed(found)))] == [m.name for m in moves]
    assert a not in repr(moves) and b not in repr(found), "values never show in a repr"
    assert group([Found(other, "C")])[0].name == "OPENAI_HEADERS_X"


def test_every_openclaw_json_target_pattern_has_a_type_and_others_have_none() -> None:
    assert target_type(["models", "providers", "openai", "apiKey"]) == "models.providers.apiKey"
    assert target_type(["channels", "discord", "accounts", "main", "token"]) == "channels.discord.accounts.*.token"
    assert target_type(["models", "providers", "openai", "baseUrl"]) is None
    assert target_type(["gateway"]) is None


def test_the_plan_maps_env_only_values_only_where_nothing_is_set_or_shadowed() -> None:
    config = {"auth": {"profiles": {"anthropic:manual": {"provider": "anthropic", "mode": "api_key"}}},
              "channels": {"telegram": {"botToken": {"source": "env", "provider": "default", "id": "X"}}}}
    found = [
        Found(Place(ENV, "/h/.env", ("GEMINI_API_KEY",)), "value-g"),
        Found(Place(ENV, "/h/.env", ("ANTHROPIC_API_KEY",)), "value-a"),
        Found(Place(ENV, "/h/.env", ("TELEGRAM_BOT_TOKEN",)), "value-t"),
        Found(Place(ENV, "/h/.env", ("SOME_TOOL_KEY",)), "value-s"),
    ]
    plan = build_plan(found, config, "supabase")
    assert [m.name for m in plan.moves] == ["GEMINI_API_KEY"]
    assert plan.targets == [{
        "type": "plugins.entries.google.config.webSearch.apiKey", "path": "plugins.entries.google.config.webSearch.apiKey",
        "pathSegments": ["plugins", "entries", "google", "config", "webSearch", "apiKey"],
        "ref": {"source": "exec", "provider": "supabase", "id": "GEMINI_API_KEY"},
    }]
    reasons = " | ".join(plan.skipped)
    assert "auth profile for anthropic takes precedence" in reasons
    assert "already sets channels.telegram.botToken" in reasons and "no openclaw.json field is known to read SOME_TOOL_KEY" in reasons
    assert not any(f"value-{v}" in json.dumps(plan.for_openclaw()) + reasons for v in "gats")


def test_the_plan_carries_profile_and_provider_ids_and_drops_a_file_provider_nobody_uses() -> None:
    config = {
        "secrets": {"providers": {"f": {"source": "file", "path": "/x.json"}, "g": {"source": "file", "path": "/y.json"}}},
        "skills": {"entries": {
            "a": {"apiKey": {"source": "file", "provider": "f", "id": "/a"}},
            "b": {"apiKey": {"source": "file", "provider": "g", "id": "/b"}},
            "c": {"apiKey": {"source": "file", "provider": "g", "id": "/c"}},
        }},
    }
    found = [
        Found(Place(FILE_REF, "/c.json", ("skills", "entries", "a", "apiKey"), file_provider="f", source_file="/x.json", pointer="/a"), "va"),
        Found(Place(FILE_REF, "/c.json", ("skills", "entries", "b", "apiKey"), file_provider="g", source_file="/y.json", pointer="/b"), "vb"),
        Found(config_place("models.providers.openai.apiKey"), "vo"),
        Found(Place(AUTH_PROFILE, "/s.sqlite", ("profiles", "anthropic:manual", "key"), "main", "anthropic"), "vp"),
    ]
    plan = build_plan(found, config, "supabase")
    assert plan.provider_deletes == ["f"], "g still serves skills.entries.c"
    by_path = {t["path"]: t for t in plan.targets}
    assert by_path["models.providers.openai.apiKey"]["providerId"] == "openai"
    profile = by_path["profiles.anthropic:manual.key"]
    assert profile["type"] == "auth-profiles.api_key.key" and profile["agentId"] == "main" and profile["authProfileProvider"] == "anthropic"
    assert plan.for_openclaw()["options"]["scrubEnv"] is False


def test_env_cleanup_removes_by_name_only_where_the_value_is_the_moved_one() -> None:
    text = "# keys\r\nA=1\nexport B = '2'\r\nC=\"3\" # mine\nA_NOT=1x\n\nD=4\nE=5"
    kept, removed = env_without(text, {"B": "2", "D": "4", "C": "3", "E": "other"})
    assert kept == "# keys\r\nA=1\nA_NOT=1x\n\nE=5" and removed == ["B", "C", "D"]


def test_a_moved_value_equal_to_other_settings_removes_only_its_own_name() -> None:
    text = "OPENCLAW_PROFILE=openclaw\nDB_USER=openclaw\nOPENCLAW_GATEWAY_PASSWORD=openclaw\n"
    kept, removed = env_without(text, {"OPENCLAW_GATEWAY_PASSWORD": "openclaw"})
    assert kept == "OPENCLAW_PROFILE=openclaw\nDB_USER=openclaw\n" and removed == ["OPENCLAW_GATEWAY_PASSWORD"]


def test_a_value_inside_a_longer_string_is_found_with_its_path_and_never_shown() -> None:
    doc = {"gateway": {"remote": {"url": "wss://h/?token=tok-123"}, "auth": {"token": "tok-123"}}, "l": ["x tok-123"]}
    hits = embedded_in("/c.json", doc, {"tok-123": "OPENCLAW_GATEWAY_TOKEN"})
    assert sorted(h.where for h in hits) == ["gateway.remote.url", "l.0"]
    assert all("tok-123" not in h.line() for h in hits)


def test_a_key_that_holds_the_value_is_never_shown_in_the_path() -> None:
    doc = {"map": {"sk-SECRET-1234": {"note": "Bearer sk-SECRET-1234"}}}
    hits = embedded_in("/c.json", doc, {"sk-SECRET-1234": "CUSTOM_API_KEY"})
    assert hits and all("sk-SECRET-1234" not in h.line() and "sk-SECRET-1234" not in h.where for h in hits)


def test_backups_get_refs_and_provider_files_lose_only_moved_entries() -> None:
    ref = {"source": "exec", "provider": "supabase", "id": "K"}
    doc, count = replace_values({"a": ["v", {"b": "v"}], "c": "other", "d": 5}, {"v": ref})
    assert doc == {"a": [ref, {"b": ref}], "c": "other", "d": 5} and count == 2
    assert without_pointer({"p": {"x": {"k": "v"}}, "q": 1}, pointer_parts("/p/x/k")) == {"q": 1}
    assert without_pointer({"a/b": {"~": "v", "w": 2}}, pointer_parts("/a~1b/~0")) == {"a/b": {"w": 2}}
    store, removed = profiles_without({"profiles": {"p": {"type": "api_key", "key": "v"}, "q": {"key": "w"}}}, {"v": "K"})
    assert store == {"profiles": {"p": {"type": "api_key"}, "q": {"key": "w"}}} and removed == 1


def test_cleanup_plans_nothing_where_no_moved_value_is_left(tmp_path: Path) -> None:
    config = tmp_path / "openclaw.json"
    config.write_text('{"a": {"source": "exec", "provider": "supabase", "id": "K"}}')
    (tmp_path / "openclaw.json.bak").write_text('{ a: "secret-v" }')
    (tmp_path / ".env").write_text("X=1\n")
    (tmp_path / "openclaw.json.bak").chmod(0o640)
    inode = (tmp_path / "openclaw.json.bak").stat().st_ino
    edits = plan_cleanup(config, [tmp_path / ".env"], [], {"secret-v": "K"}, {}, "supabase").edits
    assert [e.path.name for e in edits] == ["openclaw.json.bak"] and "secret-v" not in edits[0].describe
    edits[0].apply()
    assert json.loads((tmp_path / "openclaw.json.bak").read_text()) == {"a": {"source": "exec", "provider": "supabase", "id": "K"}}
    after = (tmp_path / "openclaw.json.bak").stat()
    assert after.st_mode & 0o777 == 0o640 and after.st_ino == inode, "rewritten in place"
    assert plan_cleanup(config, [tmp_path / ".env"], [], {"secret-v": "K"}, {}, "supabase").edits == []


def test_a_symlinked_env_file_is_cleaned_where_it_points(tmp_path: Path) -> None:
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    (dotfiles / "openclaw.env").write_text("KEEP=1\nOPENAI_API_KEY=secret-v\n")
    state = tmp_path / "state"
    state.mkdir()
    (state / ".env").symlink_to(dotfiles / "openclaw.env")
    config = state / "openclaw.json"
    config.write_text("{}")
    inode = (dotfiles / "openclaw.env").stat().st_ino
    moved = {"OPENAI_API_KEY": "secret-v"}
    for edit in plan_cleanup(config, [state / ".env"], [], {"secret-v": "OPENAI_API_KEY"}, moved, "supabase").edits:
        edit.apply()
    assert (state / ".env").is_symlink() and (dotfiles / "openclaw.env").read_text() == "KEEP=1\n"
    assert (dotfiles / "openclaw.env").stat().st_ino == inode


def test_a_rollback_puts_back_contents_modes_owners_and_links_in_place(tmp_path: Path) -> None:
    import os
    import pwd

    from bridge.migrate.snapshot import Snapshot

    nobody = pwd.getpwnam("nobody")
    state, dotfiles = tmp_path / "state", tmp_path / "dotfiles"
    state.mkdir()
    dotfiles.mkdir()
    dotfiles.chmod(0o2775)
    config = state / "openclaw.json"
    config.write_text('{"a": "secret-v"}')
    env_target = dotfiles / "openclaw.env"
    env_target.write_text("OPENAI_API_KEY=secret-v\n")
    os.chown(env_target, nobody.pw_uid, nobody.pw_gid)
    env_target.chmod(0o640)
    (state / ".env").symlink_to(env_target)
    provider = dotfiles / "one.txt"
    provider.write_text("secret-v\n")
    provider.chmod(0o604)
    before = {p: (p.stat().st_ino, p.stat().st_mode, p.stat().st_uid, p.stat().st_gid) for p in (env_target, dotfiles)}

    snapshot = Snapshot.take(config, [state / ".env", provider])
    env_target.write_text("")
    os.chown(env_target, 0, 0)
    provider.unlink()
    (state / ".env").unlink()
    (state / ".env").write_text("replaced the link\n")
    (state / "openclaw.json.bak").write_text("new backup\n")
    config.write_text("{}")
    snapshot.restore()

    assert (state / ".env").is_symlink() and os.readlink(state / ".env") == str(env_target)
    assert env_target.read_text() == "OPENAI_API_KEY=secret-v\n" and config.read_text() == '{"a": "secret-v"}'
    assert {p: (p.stat().st_ino, p.stat().st_mode, p.stat().st_uid, p.stat().st_gid) for p in (env_target, dotfiles)} == before
    assert provider.read_text() == "secret-v\n" and provider.stat().st_mode & 0o777 == 0o604
    assert not (state / "openclaw.json.bak").exists()


def test_variables_the_config_reads_are_known_so_their_env_lines_stay() -> None:
    doc = {
        "skills": {"entries": {"x": {"env": {"OPENAI_API_KEY": "${OPENAI_API_KEY}", "URL": "https://h/${REGION}/v1"}}}},
        "channels": {"telegram": {"accounts": {"main": {"botToken": {"source": "env", "provider": "default", "id": "TELEGRAM_BOT_TOKEN"}}}}},
        "models": {"providers": {"openai": {"apiKey": {"source": "exec", "provider": "supabase", "id": "GEMINI_API_KEY"}}}},
        "note": "$NOT_BRACED ${} ${1BAD}",
    }
    assert env_names_used(doc) == {"OPENAI_API_KEY", "REGION", "TELEGRAM_BOT_TOKEN"}
