"""The table of actions itself: complete, consistent, named in every language, and obeyed."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from server import i18n
from server.requests import labels
from server.requests.actions import MAX_REASON, USE_CASES, reason_of
from server.requests.workflow import (
    ACTION_TABLE,
    ACTIONS,
    REASON_REQUIRED,
    SERVICE_ACTIONS,
    Action,
    ActionSpec,
    FormKind,
    Reach,
    RequestFacts,
    State,
    is_follower,
    may_view,
    next_state,
    within,
)
from server.shared.errors import InvalidInput
from server.shared.roles import Actor, Role

FORMS_TEMPLATE = Path(__file__).parents[3] / "web/templates/requests/_action_forms.html"
SPECS = list(ACTION_TABLE)
IDS = [spec.action.value for spec in SPECS]


@pytest.fixture
def locale() -> Iterator[None]:
    yield
    i18n.set_locale(i18n.DEFAULT_LOCALE)


def test_every_action_has_exactly_one_entry_in_the_table() -> None:
    assert [spec.action for spec in ACTION_TABLE] == list(Action)
    assert all(ACTIONS[spec.action] is spec for spec in ACTION_TABLE)


def test_every_action_has_a_use_case() -> None:
    assert set(USE_CASES) == set(Action)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_every_action_is_named_for_its_button_timeline_and_confirmation(spec: ActionSpec) -> None:
    for label in (spec.button, spec.entry, spec.done):
        assert str(label).strip()
    assert labels.action_label(spec.action) == str(spec.button)
    assert labels.entry_label(spec.action.value) == str(spec.entry)
    assert labels.done_label(spec.action) == f"Готово: {spec.done}."


@pytest.mark.parametrize("language", ["en", "tt"])
@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_labels_are_translated_when_shown_in_the_viewers_language(
    spec: ActionSpec, language: str, locale: None
) -> None:
    russian = (str(spec.button), str(spec.entry), str(spec.done))
    i18n.set_locale(language)
    shown = (
        labels.action_label(spec.action),
        labels.entry_label(spec.action.value),
        str(spec.done),
    )
    for text, source in zip(shown, russian, strict=True):
        assert text and text != source, (language, source)
    if language == "en":
        assert not any(re.search("[а-яА-Я]", text) for text in shown), shown
    i18n.set_locale("ru")
    assert labels.action_label(spec.action) == russian[0]


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_every_form_kind_of_the_table_has_its_block_in_the_template(spec: ActionSpec) -> None:
    template = FORMS_TEMPLATE.read_text()
    block = re.search(r"{% set form_blocks = {(.*?)} %}", template, re.S)
    assert block is not None
    kinds = set(re.findall(r'"(\w+)": \w+_form', block.group(1)))
    assert kinds == {kind.value for kind in FormKind}
    assert spec.form in kinds


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_actions_with_a_text_field_name_it_and_reason_forms_always_have_one(
    spec: ActionSpec,
) -> None:
    if spec.form is FormKind.REASON or spec.reason_required:
        assert spec.prompt is not None and str(spec.prompt).strip()
    if spec.form in (FormKind.BUTTON, FormKind.CONTRACTOR, FormKind.WORKER):
        assert spec.prompt is None
        assert not spec.reason_required


@pytest.mark.parametrize("action", sorted(REASON_REQUIRED), ids=str)
@pytest.mark.parametrize("empty", ["", "   ", "\r\n\t"])
def test_reason_required_actions_refuse_an_empty_reason(action: Action, empty: str) -> None:
    spec = ACTIONS[action]
    with pytest.raises(InvalidInput) as refused:
        reason_of(spec, empty)
    assert refused.value.fields == {"reason": str(spec.missing_reason)}


def test_an_empty_comment_is_asked_for_as_a_comment_and_other_reasons_as_a_reason() -> None:
    assert str(ACTIONS[Action.COMMENT].missing_reason) == "Напишите комментарий."
    for action in REASON_REQUIRED - {Action.COMMENT}:
        assert str(ACTIONS[action].missing_reason) == "Укажите причину."


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_reasons_are_kept_trimmed_and_refused_when_too_long(spec: ActionSpec) -> None:
    assert reason_of(spec, "  Нужна лестница \r\n") == "Нужна лестница"
    assert reason_of(spec, "я" * MAX_REASON) == "я" * MAX_REASON
    with pytest.raises(InvalidInput) as refused:
        reason_of(spec, "я" * (MAX_REASON + 1))
    assert set(refused.value.fields) == {"reason"}
    if not spec.reason_required:
        assert reason_of(spec, "") == ""


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_moves_lead_from_and_to_states_and_next_state_reads_them(spec: ActionSpec) -> None:
    assert spec.moves, "an action that is possible in no state is dead"
    for origin, target in spec.moves.items():
        assert isinstance(origin, State) and isinstance(target, State)
        assert next_state(origin, spec.action) is target


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_only_the_service_and_staff_in_the_table_take_an_action(spec: ActionSpec) -> None:
    assert spec.reach or spec.action in SERVICE_ACTIONS, "an action nobody may take is dead"
    assert Role.SYSTEM not in spec.reach
    assert Role.SYSADMIN not in spec.reach
    for reach in spec.reach.values():
        assert isinstance(reach, Reach)


def _worlds() -> Iterator[tuple[Actor, RequestFacts]]:
    """Everyone against every shape of request: own or foreign at each level, triage or not."""
    ids = (None, 1, 2)
    for role, user_id, organisation_id in itertools.product(Role, (None, 1), (None, 1)):
        actor = Actor(user_id=user_id, role=role, organisation_id=organisation_id)
        for resident, organisation, contractor, worker in itertools.product(ids, repeat=4):
            for followers in (frozenset(), frozenset({1})):
                yield (
                    actor,
                    RequestFacts(
                        State.NEW, resident, organisation, contractor, worker, followers=followers
                    ),
                )


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_nobody_may_act_on_a_request_they_may_not_see(spec: ActionSpec) -> None:
    for actor, facts in _worlds():
        reach = spec.reach.get(actor.role)
        if reach is not None and within(reach, actor, facts):
            assert may_view(actor, facts), (spec.action, actor, facts)
            # A follower only watches: no action is theirs to take.
            assert not is_follower(actor, facts), (spec.action, actor, facts)
