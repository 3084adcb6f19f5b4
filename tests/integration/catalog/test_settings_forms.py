"""What the settings forms accept before any use case sees them, and what they say otherwise."""

from __future__ import annotations

import pytest

from server.catalog.buildings import BuildingForm
from server.catalog.categories import CategoryForm
from server.catalog.deadline_units import deadline_minutes
from server.catalog.organisations import ContractorForm
from server.catalog.users import UserForm
from server.shared.errors import InvalidInput
from server.shared.forms import DB_INT_MAX


def test_house_form_reads_numbers_and_keeps_decimal_commas_for_the_use_case() -> None:
    form = BuildingForm.parse(
        {"street": " улица  Мира ", "house": "5", "manager_id": "7", "latitude": "55,29",
         "floors": "9", "flats": ""}
    )  # fmt: skip
    assert (form.street, form.manager_id, form.latitude, form.floors, form.flats) == (
        "улица  Мира",
        7,
        "55,29",
        9,
        None,
    )


def test_a_word_in_a_number_field_is_named_beside_the_field() -> None:
    with pytest.raises(InvalidInput) as error:
        BuildingForm.parse({"street": "улица Мира", "house": "5", "floors": "много"})
    assert error.value.fields == {"floors": "Введите целое число."}


@pytest.mark.parametrize("sent", ["abc", "0", "-3", str(DB_INT_MAX + 1)])
def test_a_choice_that_is_no_id_gets_the_message_of_the_list(sent: str) -> None:
    cases = [
        (BuildingForm, "manager_id", "Дом обслуживает УК или ТСЖ: выберите из списка."),
        (CategoryForm, "handler_organisation_id", "Выберите ресурсоснабжающую организацию или УК."),
        (ContractorForm, "contractor_id", "Выберите подрядную организацию."),
        (UserForm, "organisation_id", "Выберите организацию, подходящую для этой роли."),
    ]
    for form, field, message in cases:
        with pytest.raises(InvalidInput) as error:
            form.parse({field: sent})
        assert error.value.fields == {field: message}, form


def test_an_unticked_checkbox_switches_a_category_off() -> None:
    assert CategoryForm.parse({"name": "Лифт", "active": "on"}).active is True
    assert CategoryForm.parse({"name": "Лифт"}).active is False
    assert CategoryForm().active is True, "a new category is offered unless unticked"


def test_staff_password_is_taken_exactly_as_typed() -> None:
    form = UserForm.parse({"login": " new.disp ", "password": "  two words  "})
    assert (form.login, form.password) == ("new.disp", "  two words  ")


def test_deadline_is_read_in_its_unit_with_a_comma() -> None:
    errors: dict[str, str] = {}
    assert deadline_minutes("1,5", "hour", "deadline", errors, required=True) == 90
    assert deadline_minutes("", "day", "summer", errors, required=False) is None
    assert errors == {}
    assert deadline_minutes("полдня", "day", "deadline", errors, required=True) is None
    assert deadline_minutes("2", "week", "other", errors, required=True) is None
    assert errors == {
        "deadline": "Срок — число, например 30 или 1,5.",
        "other": "Выберите единицу срока.",
    }
