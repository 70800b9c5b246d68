from tests.conftest import make_test_app


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_readyz_when_ready(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json
    assert body["status"] == "ready"
    assert body["checks"]["database"]["ok"] and body["checks"]["redis"]["ok"]
    assert body["checks"]["database"]["revision"] == body["checks"]["database"]["head"]


def test_readyz_with_the_database_unreachable(servers):
    app = make_test_app(servers, "postgresql+psycopg://postgres@127.0.0.1:1/nowhere",
                        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 2}})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["database"]["ok"] is False
    assert response.json["checks"]["redis"]["ok"] is True


def test_readyz_with_redis_unreachable(servers, test_database):
    app = make_test_app(servers, test_database, REDIS_URL="redis://127.0.0.1:1/0")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503 and response.json["checks"]["redis"]["ok"] is False


def test_readyz_before_migrations(servers):
    from tests.conftest import create_database, drop_database

    url = create_database(servers.database_url)
    try:
        response = make_test_app(servers, url).test_client().get("/readyz")
        assert response.status_code == 503 and response.json["checks"]["database"]["ok"] is False
    finally:
        drop_database(servers.database_url, url)


def test_readyz_reports_stuck_publications_without_failing(client):
    body = client.get("/readyz").json
    assert body["checks"]["publications"] == {"ok": True, "unknown": 0}
