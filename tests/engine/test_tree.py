"""Trees (SPEC 1.6) through the document API: materialised paths, rules, moves, tree filters."""

from __future__ import annotations

import pytest
import sqltrace

from engine.errors import TreeError

TABLE = "tab_test_group"


def statements(site):
    """Every SQL statement the engine sends while the block runs (transaction control aside)."""
    return sqltrace.statements(site, transaction_control=False)


def updates_of(seen, table=TABLE):
    return [s for s in seen if s.upper().startswith(f"UPDATE {table.upper()}")
            or s.upper().startswith(f'UPDATE "{table.upper()}"') or s.upper().startswith(f"UPDATE `{table.upper()}`")]


def below(s, node, inclusive=False):
    op = "descendants of (inclusive)" if inclusive else "descendants of"
    return sorted(s.get_list("Test Group", ["name"], {"name": [op, node]}, pluck="name"))


def above(s, node):
    return sorted(s.get_list("Test Group", filters={"name": ["ancestors of", node]}, pluck="name"))


@pytest.fixture
def world(session):
    """All > (Europe > (Germany > Berlin, France), Asia > Japan); Berlin is a group without children."""
    s = session
    s.insert("Test Group", group_name="All", is_group=1)
    s.insert("Test Group", group_name="Europe", parent_test_group="All", is_group=1)
    s.insert("Test Group", group_name="Germany", parent_test_group="Europe", is_group=1)
    s.insert("Test Group", group_name="Berlin", parent_test_group="germany", is_group=1)  # IDs match any case
    s.insert("Test Group", group_name="France", parent_test_group="Europe")
    s.insert("Test Group", group_name="Asia", parent_test_group="All", is_group=1)
    s.insert("Test Group", group_name="Japan", parent_test_group="Asia")
    return s


def test_roots_children_and_grandchildren(world):
    s = world
    assert s.get_value("Test Group", "Berlin", "parent_test_group") == "Germany"
    assert below(s, "All") == ["Asia", "Berlin", "Europe", "France", "Germany", "Japan"]
    assert below(s, "Europe") == ["Berlin", "France", "Germany"]
    assert below(s, "Europe", inclusive=True) == ["Berlin", "Europe", "France", "Germany"]
    assert below(s, "Japan") == []
    assert above(s, "Berlin") == ["All", "Europe", "Germany"]
    assert above(s, "All") == []
    s.insert("Test Group", group_name="Other")  # a second root
    assert above(s, "Other") == [] and "Other" not in below(s, "All")


def test_inserting_a_node_rewrites_no_other_row(world, site):
    with statements(site) as seen:
        world.insert("Test Group", group_name="Munich", parent_test_group="Germany")
        world.insert("Test Group", group_name="Bavaria", parent_test_group="Germany", is_group=1)
        world.insert("Test Group", group_name="Root 2", is_group=1)
    assert updates_of(seen) == []
    assert sum(s.upper().startswith("INSERT INTO TAB_TEST_GROUP") or s.upper().startswith('INSERT INTO "TAB_TEST_GROUP')
               or s.upper().startswith("INSERT INTO `TAB_TEST_GROUP") for s in seen) == 3
    assert below(world, "Germany") == ["Bavaria", "Berlin", "Munich"]


def test_only_groups_can_have_children(world):
    with pytest.raises(TreeError, match="Parent Test Group 'France' is not a group") as exc:
        world.insert("Test Group", group_name="Paris", parent_test_group="France")
    err = exc.value.errors[0]
    assert exc.value.status == 417 and err.field == "parent_test_group" and err.value == "France"
    assert not world.exists("Test Group", "Paris")
    japan = world.get_doc("Test Group", "Japan")
    japan.is_group = 1
    japan.save()
    world.insert("Test Group", group_name="Tokyo", parent_test_group="Japan")
    assert below(world, "Asia") == ["Japan", "Tokyo"]


def test_a_node_cannot_be_its_own_parent(world):
    europe = world.get_doc("Test Group", "Europe")
    europe.parent_test_group = "europe"
    with pytest.raises(TreeError, match="'Europe' cannot be its own parent"):
        europe.save()
    assert world.get_value("Test Group", "Europe", "parent_test_group") == "All"


def test_moving_under_own_descendant_is_refused(world):
    for target in ("Germany", "Berlin"):
        europe = world.get_doc("Test Group", "Europe")
        europe.parent_test_group = target
        with pytest.raises(TreeError, match=f"{target!r} is below 'Europe'"):
            europe.save()
    assert world.get_value("Test Group", "Europe", "parent_test_group") == "All"
    assert below(world, "Europe") == ["Berlin", "France", "Germany"]


def test_moving_a_subtree_updates_every_descendant_in_one_update(world, site):
    world.insert("Test Customer", customer_name="Acme", test_group="Berlin")
    germany = world.get_doc("Test Group", "Germany")
    germany.parent_test_group = "Asia"
    with statements(site) as seen:
        germany.save()
    # one UPDATE for the node itself, one for its whole subtree
    assert len(updates_of(seen)) == 2
    assert below(world, "Asia") == ["Berlin", "Germany", "Japan"]
    assert below(world, "Europe") == ["France"]
    assert above(world, "Berlin") == ["All", "Asia", "Germany"]
    customers = world.get_list("Test Customer", filters={"test_group": ["descendants of", "Asia"]}, pluck="name")
    assert customers == ["Acme"]
    assert world.get_list("Test Customer", filters={"test_group": ["descendants of", "Europe"]}) == []
    # children inserted after the move land under the new path
    world.insert("Test Group", group_name="Hamburg", parent_test_group="Germany")
    assert below(world, "Asia") == ["Berlin", "Germany", "Hamburg", "Japan"]
    # and moving back to the root level works too
    germany = world.get_doc("Test Group", "Germany")
    germany.parent_test_group = None
    germany.save()
    assert above(world, "Hamburg") == ["Germany"]
    assert below(world, "All") == ["Asia", "Europe", "France", "Japan"]


def test_saving_without_moving_rewrites_no_subtree(world, site):
    europe = world.get_doc("Test Group", "Europe")
    europe.default_rate = "2"
    with statements(site) as seen:
        europe.save()
    assert len(updates_of(seen)) == 1
    assert below(world, "Europe") == ["Berlin", "France", "Germany"]


def test_is_group_cannot_be_unset_while_children_exist(world):
    for name in ("Europe", "All"):  # an inner node and a root
        doc = world.get_doc("Test Group", name)
        doc.is_group = 0
        with pytest.raises(TreeError, match=f"{name!r} has child nodes, so Is Group cannot be unset") as exc:
            doc.save()
        assert exc.value.errors[0].field == "is_group"
        assert world.get_value("Test Group", name, "is_group") == 1
    berlin = world.get_doc("Test Group", "Berlin")  # a group without children may become a leaf
    berlin.is_group = 0
    berlin.save()
    assert world.get_value("Test Group", "Berlin", "is_group") == 0


def test_deleting_a_group_with_children_is_refused_and_leaves_delete(world):
    with pytest.raises(TreeError, match="Cannot delete Test Group 'Asia': it has child nodes"):
        world.delete_doc("Test Group", "Asia")
    assert world.exists("Test Group", "Asia")
    world.delete_doc("Test Group", "Japan")
    assert not world.exists("Test Group", "Japan")
    world.delete_doc("Test Group", "Asia")  # now empty
    assert below(world, "All") == ["Berlin", "Europe", "France", "Germany"]


def test_tree_filters_are_answered_in_one_query(world, site):
    world.insert("Test Customer", customer_name="Acme", test_group="Berlin")
    world.insert("Test Customer", customer_name="Beta", test_group="Japan")
    world.insert("Test Customer", customer_name="Gamma")
    expected = {
        "descendants of": ["Acme"], "descendants of (inclusive)": ["Acme"], "not descendants of": ["Beta", "Gamma"],
        "ancestors of": [], "ancestors of (inclusive)": [], "not ancestors of": ["Acme", "Beta", "Gamma"],
    }
    for op, names in expected.items():
        with statements(site) as seen:
            got = world.get_list("Test Customer", filters={"test_group": [op, "Europe"]}, pluck="name")
            count = world.get_count("Test Customer", {"test_group": [op, "Europe"]})
        assert sorted(got) == names and count == len(names), op
        assert len(seen) == 2, (op, seen)
