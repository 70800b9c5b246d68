"""Content objects through the PostgreSQL engine, and the JSON endpoint of media search."""

import uuid

import pytest
import sqlalchemy as sa

from app import search
from app.extensions import db
from app.models import Campaign, CampaignScenario, ContentObject, SocialAccount, object_targets


@pytest.fixture
def objects(app):
    with app.app_context():
        salon = Campaign(name="Salon de l'agriculture 2026")
        summer = Campaign(name="Summer festival")
        db.session.add_all([salon, summer])
        db.session.flush()
        scenarios = {}
        for platform in ("instagram", "linkedin"):
            account = SocialAccount(
                platform=platform, label=platform, make_connection_id=1, account_identifier=uuid.uuid4().hex[:12]
            )
            db.session.add(account)
            db.session.flush()
            scenario = CampaignScenario(campaign_id=salon.id, social_account_id=account.id)
            db.session.add(scenario)
            db.session.flush()
            scenarios[platform] = scenario.id
        made = {}
        for key, campaign, title, message, status in (
            ("teaser", salon, "Teaser du stand", "Rendez-vous au pavillon 3 !", "draft"),
            ("recap", salon, "Retour en images", "Merci aux éleveurs présents.", "approved"),
            ("lineup", summer, "Programmation dévoilée", "The line-up is out.", "draft"),
        ):
            made[key] = ContentObject(campaign_id=campaign.id, title=title, message=message, status=status)
            db.session.add(made[key])
        db.session.flush()
        db.session.execute(
            sa.insert(object_targets),
            [
                {"object_id": made["teaser"].id, "campaign_scenario_id": scenarios["instagram"]},
                {"object_id": made["teaser"].id, "campaign_scenario_id": scenarios["linkedin"]},
                {"object_id": made["recap"].id, "campaign_scenario_id": scenarios["instagram"]},
            ],
        )
        db.session.commit()
        return {key: obj.id for key, obj in made.items()}, salon.id


def found(objects, result):
    by_id = {value: key for key, value in objects[0].items()}
    return [by_id[i] for i in result.ids]


def test_objects_by_title_message_and_campaign_name(app, objects):
    with app.app_context():
        assert found(objects, search.search_objects("pavillon ")) == ["teaser"]
        assert set(found(objects, search.search_objects("agriculture"))) == {"teaser", "recap"}
        assert found(objects, search.search_objects("eleveurs ")) == ["recap"]
        assert found(objects, search.search_objects("programation ")) == ["lineup"]  # a typo


def test_object_ids_reach_past_one_page_without_highlights(app, objects):
    with app.app_context():
        campaign_id = objects[1]
        db.session.add_all(
            [
                ContentObject(
                    campaign_id=campaign_id, title=f"Coulisses {n}", message="Les coulisses du stand", status="draft"
                )
                for n in range(search.types.PER_PAGE + 5)
            ]
        )
        db.session.commit()
        ids = search.object_ids("coulises", search.ObjectFilters(campaign_ids=(campaign_id,)))
        assert len(ids) == search.types.PER_PAGE + 5  # a typo, and more than one page
        assert search.object_ids("coulisses", search.ObjectFilters(campaign_ids=(campaign_id + 1,))) == []
        request = search.SearchRequest.build(
            "objects", "coulisses", None, "relevance", 1, False, limit=3, highlight=False
        )
        assert search.postgres.search(request, "Europe/Paris").hits[0].highlights == {}
        with pytest.raises(search.InvalidSearch):
            search.SearchRequest.build("objects", "x", None, "relevance", 1, False, limit=1001)


def test_object_filters_and_facets(app, objects):
    with app.app_context():
        result = search.search_objects("", search.ObjectFilters(platforms=["instagram"]))
        assert set(found(objects, result)) == {"teaser", "recap"}
        assert result.facets["platform"] == {"instagram": 2, "linkedin": 1}
        assert result.facets["status"] == {"approved": 1, "draft": 1}
        drafts = search.search_objects("", search.ObjectFilters(statuses=["draft"]))
        assert set(found(objects, drafts)) == {"teaser", "lineup"}
        assert drafts.facets["campaign"][str(objects[1])] == 1


def test_renaming_a_campaign_renames_its_objects_in_search(app, objects):
    with app.app_context():
        db.session.get(Campaign, objects[1]).name = "Foire de Paris"
        db.session.flush()
        assert found(objects, search.search_objects("agriculture ")) == []
        assert set(found(objects, search.search_objects("foire "))) == {"teaser", "recap"}


def test_media_search_json(app, client, auth, corpus):
    auth.login("editor")
    response = client.get("/media/search.json?q=campgane&kind=image")
    assert response.status_code == 200
    body = response.json
    assert body["engine"] == "postgres" and body["fallback"] is False
    assert [hit["id"] for hit in body["hits"]] == [corpus.ids["hiring"]]
    assert body["hits"][0]["highlights"]["title"] == "<mark>Campagne</mark> recrutement printemps"
    assert body["facets"]["kind"] == {"image": 1} and body["total"] == 1


@pytest.mark.parametrize("query", ["kind=statue", "sort=best", "page=0", "from=yesterday"])
def test_media_search_json_refuses_bad_arguments(client, auth, query):
    auth.login("editor")
    response = client.get(f"/media/search.json?q=x&{query}")
    assert response.status_code == 400 and "error" in response.json


def test_media_search_json_needs_a_login(client):
    response = client.get("/media/search.json?q=x", headers={"Accept": "application/json"})
    assert response.status_code == 401
