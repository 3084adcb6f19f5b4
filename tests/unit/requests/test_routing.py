"""Where a new request goes (PRODUCT.md, «The journey», step 2).

The building's УК/ТСЖ, or a named organisation (a resource supplier, РСО) for the categories it
handles; an address that nobody serves lands in the administration's triage queue.
"""

from __future__ import annotations

import pytest

from server.requests.routing import BuildingRoute, CategoryRoute, Handler, route

UK_ID = 10
WATER_SUPPLIER_ID = 50  # ресурсоснабжающая организация, e.g. Водоканал

SERVED_BUILDING = BuildingRoute(manager_id=UK_ID)
BUILDING_WITHOUT_MANAGER = BuildingRoute(manager_id=None)
BUILDING_WITH_INACTIVE_MANAGER = BuildingRoute(manager_id=UK_ID, manager_active=False)

MANAGER_CATEGORY = CategoryRoute(handler=Handler.MANAGER)
SUPPLIER_CATEGORY = CategoryRoute(handler=Handler.ORGANISATION, organisation_id=WATER_SUPPLIER_ID)
SUPPLIER_CATEGORY_WITHOUT_SUPPLIER = CategoryRoute(
    handler=Handler.ORGANISATION, organisation_id=None
)
SUPPLIER_CATEGORY_WITH_INACTIVE_SUPPLIER = CategoryRoute(
    handler=Handler.ORGANISATION, organisation_id=WATER_SUPPLIER_ID, organisation_active=False
)


def test_category_handled_by_manager_goes_to_the_buildings_uk() -> None:
    assert route(SERVED_BUILDING, MANAGER_CATEGORY) == UK_ID


def test_category_handled_by_supplier_goes_to_the_supplier() -> None:
    assert route(SERVED_BUILDING, SUPPLIER_CATEGORY) == WATER_SUPPLIER_ID


def test_category_handled_by_supplier_goes_to_supplier_even_where_no_manager_serves() -> None:
    # The water supplier serves the whole town, whether or not the house has a УК.
    assert route(BUILDING_WITHOUT_MANAGER, SUPPLIER_CATEGORY) == WATER_SUPPLIER_ID
    assert route(BUILDING_WITH_INACTIVE_MANAGER, SUPPLIER_CATEGORY) == WATER_SUPPLIER_ID


def test_category_without_named_supplier_falls_back_to_the_buildings_manager() -> None:
    assert route(SERVED_BUILDING, SUPPLIER_CATEGORY_WITHOUT_SUPPLIER) == UK_ID


def test_category_with_inactive_supplier_falls_back_to_the_buildings_manager() -> None:
    assert route(SERVED_BUILDING, SUPPLIER_CATEGORY_WITH_INACTIVE_SUPPLIER) == UK_ID


@pytest.mark.parametrize(
    "category",
    [
        MANAGER_CATEGORY,
        SUPPLIER_CATEGORY_WITHOUT_SUPPLIER,
        SUPPLIER_CATEGORY_WITH_INACTIVE_SUPPLIER,
    ],
    ids=["manager-category", "supplier-missing", "supplier-inactive"],
)
def test_building_without_manager_goes_to_triage(category: CategoryRoute) -> None:
    assert route(BUILDING_WITHOUT_MANAGER, category) is None


@pytest.mark.parametrize(
    "category",
    [
        MANAGER_CATEGORY,
        SUPPLIER_CATEGORY_WITHOUT_SUPPLIER,
        SUPPLIER_CATEGORY_WITH_INACTIVE_SUPPLIER,
    ],
    ids=["manager-category", "supplier-missing", "supplier-inactive"],
)
def test_building_with_inactive_manager_goes_to_triage(category: CategoryRoute) -> None:
    assert route(BUILDING_WITH_INACTIVE_MANAGER, category) is None


def test_manager_category_ignores_an_organisation_left_on_the_category() -> None:
    # A category switched back to «the building's manager» keeps the old supplier id; the
    # handler decides, not the leftover id.
    category = CategoryRoute(handler=Handler.MANAGER, organisation_id=WATER_SUPPLIER_ID)
    assert route(SERVED_BUILDING, category) == UK_ID
    assert route(BUILDING_WITHOUT_MANAGER, category) is None


def test_inactive_manager_flag_without_manager_still_goes_to_triage() -> None:
    assert route(BuildingRoute(manager_id=None, manager_active=False), MANAGER_CATEGORY) is None


def test_routes_are_active_by_default() -> None:
    assert BuildingRoute(manager_id=UK_ID).manager_active is True
    assert CategoryRoute(handler=Handler.ORGANISATION, organisation_id=1).organisation_active
    assert CategoryRoute(handler=Handler.MANAGER).organisation_id is None
