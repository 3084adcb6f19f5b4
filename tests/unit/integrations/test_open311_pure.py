"""Open311's pure parts: address words, query filters, XML bodies, the format in the URL."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from server.integrations.open311.addresses import address_words, distance_m, parse_point
from server.integrations.open311.errors import Open311Error
from server.integrations.open311.formats import split_format, to_xml
from server.integrations.open311.query import MAX_SPAN, parse_query

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_address_words_drop_the_town_the_index_and_the_word_house() -> None:
    street, houses = address_words("ул. Ленина, д. 12, г. Заинск, 423520", "Заинск")
    assert houses == ["12"] and street == ["ул", "ленина"]


def test_address_words_expand_abbreviations_and_keep_building_letters() -> None:
    street, houses = address_words("пр-т Нефтяников 7а", "Заинск")
    assert street == ["проспект", "нефтяников"] and houses == ["7а"]


def test_points_must_come_in_pairs_and_in_range() -> None:
    assert parse_point("", "") is None
    assert parse_point("55.3", "52.0") == (55.3, 52.0)
    for lat, long in (("55.3", ""), ("x", "1"), ("91", "0"), ("nan", "0")):
        with pytest.raises(Open311Error):
            parse_point(lat, long)


def test_distance_of_a_thousandth_of_a_degree_of_latitude_is_about_111_metres() -> None:
    assert 110 < distance_m((55.0, 52.0), (55.001, 52.0)) < 112


def test_query_defaults_to_the_last_90_days() -> None:
    query = parse_query({}, NOW)
    assert query.end == NOW and query.start == NOW - MAX_SPAN and query.ids is None


def test_query_ids_override_every_other_filter() -> None:
    query = parse_query({"service_request_id": "3, 5", "status": "nonsense"}, NOW)
    assert query.ids == [3, 5] and query.start is None


@pytest.mark.parametrize(
    "params",
    [
        {"status": "pending"},
        {"start_date": "2026-03-01", "end_date": "2026-02-01"},
        {"start_date": "2025-01-01", "end_date": "2026-01-01"},
        {"start_date": "yesterday"},
        {"service_request_id": "1,x"},
    ],
)
def test_bad_filters_are_bad_requests(params: dict[str, str]) -> None:
    with pytest.raises(Open311Error) as raised:
        parse_query(params, NOW)
    assert raised.value.status == 400


def test_a_bare_end_date_means_the_whole_day() -> None:
    query = parse_query({"end_date": "2026-03-01"}, NOW)
    assert query.end is not None and query.start == query.end - MAX_SPAN
    assert (query.end + timedelta(microseconds=1)).hour == 0


def test_xml_names_list_members_by_their_list() -> None:
    root = ET.fromstring(to_xml("services", [{"service_code": "lift", "metadata": True}]))
    assert root.tag == "services"
    assert [(s.tag, s.findtext("metadata")) for s in root] == [("service", "true")]


def test_format_is_the_extension_of_the_last_segment() -> None:
    assert split_format("requests.JSON") == ("requests", "json")
    for name in ("requests", "requests.html", ".json"):
        with pytest.raises(Open311Error):
            split_format(name)
