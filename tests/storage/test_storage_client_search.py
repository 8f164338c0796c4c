"""The client list and its search: whole records, by family name, matched on any word."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import Clinic


def test_search_lists_whole_client_records_by_family_name_and_matches_each_word(
    clinic: Clinic,
) -> None:
    # Given clients with and without a date of birth and a record number
    maya = clinic.add_client(
        "Maya", "Fischer", date_of_birth=date(1984, 3, 9), record_number="KAP-00017"
    )
    jon = clinic.add_client("Jon", "Berg")
    ana = clinic.add_client("Ana", "Fischer", record_number="KAP-00018")
    # When the whole list is read, Then each client is the same record as reading it alone,
    # ordered by family name, then given name
    listed = clinic.clients.search("")
    assert listed == [clinic.clients.get(c.id) for c in (jon, ana, maya)]
    assert listed[2].date_of_birth == date(1984, 3, 9)
    assert listed[2].record_number == "KAP-00017"
    assert listed[2].created_at == maya.created_at
    # And a search keeps the clients matching every word, in name or record number
    assert [c.id for c in clinic.clients.search("fischer")] == [ana.id, maya.id]
    assert [c.id for c in clinic.clients.search("fischer 00017")] == [maya.id]
    assert [c.id for c in clinic.clients.search("kap-0001")] == [ana.id, maya.id]
    assert clinic.clients.search("nobody") == []


def test_search_takes_percent_and_underscore_as_the_characters_typed(clinic: Clinic) -> None:
    # Given clients, one of whom has a % and an _ in their names or record number
    plain = clinic.add_client("Jon", "Berg", record_number="KAP-00001")
    odd = clinic.add_client("A_na", "100%-Fischer", record_number="KAP_7")
    clinic.add_client("Maya", "Fischer")
    # When staff search for "%" or "_" (or a word holding them), Then only the client whose
    # name or record number holds that character is listed, not every client
    assert [c.id for c in clinic.clients.search("%")] == [odd.id]
    assert [c.id for c in clinic.clients.search("_")] == [odd.id]
    assert [c.id for c in clinic.clients.search("a_n")] == [odd.id]
    assert [c.id for c in clinic.clients.search("kap_")] == [odd.id]
    assert clinic.clients.search("0%-f") == [clinic.clients.get(odd.id)]
    # And the escape character itself is an ordinary character too
    assert clinic.clients.search("/") == []
    assert [c.id for c in clinic.clients.search("kap-0")] == [plain.id]
