"""The media picker: a partial any form loads; it returns the chosen ids, in order, as hidden
inputs named by the `field` parameter, with buttons to remove and reorder."""

import re

import pytest

from tests.media_support import EN, editor, image, media_root, pdf, upload  # noqa: F401

HX = {"HX-Request": "true", **EN}


def chosen(html, field="media_ids"):
    return [int(v) for v in re.findall(rf'<input type="hidden" name="{field}" value="(\d+)">', html)]


@pytest.fixture
def assets(client, editor, media_root):
    ids = [upload(client, image("PNG", color=(i, 1, 1)), f"pic{i}.png").get_json()["id"] for i in range(3)]
    return ids + [upload(client, pdf(), "doc.pdf").get_json()["id"]]


def test_the_partial_renders_the_selection_in_the_given_order(client, assets):
    a, b, c, d = assets
    response = client.get(f"/media/picker?field=cover&cover={c}&cover={a}&cover=999999", headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html and "<form" not in html  # fits inside a form
    assert chosen(html, "cover") == [c, a]  # unknown ids dropped
    assert 'name="picker_kind"' in html and "Chosen files (2)" in html
    assert len(re.findall(r'aria-label="Add “', html)) == 4


@pytest.mark.parametrize(
    "op,expected",
    [
        ("add=D", ["B", "A", "D"]),
        ("add=A", ["B", "A"]),
        ("remove=B", ["A"]),
        ("up=A", ["A", "B"]),
        ("down=B", ["A", "B"]),
        ("up=B", ["B", "A"]),
        ("down=A", ["B", "A"]),
    ],
)
def test_each_button_gives_the_new_ordered_selection(client, assets, op, expected):
    names = dict(zip("ABCD", assets))
    name, letter = op.split("=")
    response = client.get(
        f"/media/picker/selection?field=media_ids&media_ids={names['B']}&media_ids={names['A']}&{name}={names[letter]}",
        headers=HX,
    )
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="picker-media_ids-selection"')
    assert chosen(html) == [names[x] for x in expected]


def test_filters_are_prefixed_and_page_with_a_cursor(client, assets):
    a, b, c, d = assets
    html = client.get("/media/picker/results?field=media_ids&picker_kind=document", headers=HX).get_data(as_text=True)
    assert re.findall(r"add=(\d+)", html) == [str(d)]
    everything = client.get("/media/picker/results?field=media_ids", headers=HX).get_data(as_text=True)
    assert re.findall(r"add=(\d+)", everything) == [str(x) for x in (d, c, b, a)]


@pytest.mark.parametrize("field", ["", "bad name", "x\"><script>", "picker_kind"])
def test_the_field_name_is_checked(client, editor, field):
    assert client.get("/media/picker", query_string={"field": field}, headers=HX).status_code == 400


def test_the_standalone_page_is_a_form_that_sends_the_ids_in_order(client, assets):
    a, b, c, _ = assets
    html = client.get(f"/media/picker?field=media_ids&media_ids={b}&media_ids={a}", headers=EN).get_data(as_text=True)
    assert "<html" in html and '<form method="get" action="/media/picker"' in html
    assert f"media_ids={b}&amp;media_ids={a}" in html and chosen(html) == [b, a]
