"""The upload service's HTTP API, against the real app, a real SQLite file and real workers.

One module-scoped service with one worker process scores one sample clip; the other tests
read from it or use their own app without workers (refusals never reach a worker).
"""

from __future__ import annotations

import contextlib
import io
import json
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from short_clips import short_sample
from sqlalchemy import func, select

from formcheck.pose.bundle import default_model_path
from formcheck.report import validate_report
from formcheck.server import ServerSettings
from formcheck.server.app import create_app, make_token
from formcheck.server.db import jobs, make_engine, uploads

with warnings.catch_warnings():  # starlette now prefers httpx2 for its TestClient; httpx works
    warnings.simplefilter("ignore", UserWarning)
    from fastapi.testclient import TestClient

SAMPLES = Path(__file__).resolve().parents[1] / "sample_videos"
CLIP = short_sample("short_pause_left", reps=2)  # two reps: 8.5 s to score
# Every other frame: the API flow is under test here, not the accuracy.
FAST_CONFIG = "[pose]\nstride = 2\n"


def settings_for(data: Path, **kw: object) -> ServerSettings:
    config = data.parent / f"{data.name}.toml"
    config.write_text(FAST_CONFIG)
    return ServerSettings(data_dir=data, config_path=config, poll_s=0.2, **kw)  # type: ignore[arg-type]


def login(client: TestClient, token: str) -> str:
    """Log `client` in on the pages with `token` (a fresh session); its session cookie."""
    client.cookies.clear()
    r = client.post("/login", data={"token": token}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return str(client.cookies.get("formcheck_session"))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def upload(
    client: TestClient, token: str, data: bytes, name: str = "set.mp4"
) -> tuple[int, dict[str, object]]:
    r = client.post(
        "/api/uploads", headers=bearer(token), files={"file": (name, io.BytesIO(data), "video/mp4")}
    )
    return r.status_code, r.json()


def wait_done(
    client: TestClient, token: str, upload_id: str, timeout_s: float = 240.0
) -> dict[str, object]:
    deadline = time.monotonic() + timeout_s
    seen: set[str] = set()
    while time.monotonic() < deadline:
        info = client.get(f"/api/uploads/{upload_id}", headers=bearer(token)).json()
        seen.add(str(info["state"]))
        if info["state"] in ("done", "error"):
            info["seen_states"] = sorted(seen)
            return dict(info)
        time.sleep(0.3)
    raise AssertionError(f"upload {upload_id} not scored in {timeout_s} s (states {seen})")


@dataclass
class Served:
    client: TestClient
    settings: ServerSettings
    alice: str
    bob: str
    coach: str
    upload_id: str
    first_state: str
    final: dict[str, object]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A service with one worker; alice's sample clip uploaded and scored."""
    if not default_model_path().is_file():
        pytest.skip("pose model not found")
    settings = settings_for(tmp_path_factory.mktemp("server") / "data", workers=1)
    alice = make_token(settings, "alice", coach=False)
    bob = make_token(settings, "bob", coach=False)
    coach = make_token(settings, "coach", coach=True)
    with TestClient(create_app(settings)) as client:
        status, body = upload(client, alice, CLIP.read_bytes(), "my set.mp4")
        assert status == 201, body
        final = wait_done(client, alice, str(body["id"]))
        yield Served(
            client, settings, alice, bob, coach, str(body["id"]), str(body["state"]), final
        )


@contextlib.contextmanager
def bare_service(data: Path, **limits: object) -> Iterator[tuple[TestClient, str, ServerSettings]]:
    """A service without workers (uploads stay queued) on `data`, with `limits` (settings),
    its client and carol's token."""
    settings = settings_for(data, workers=0, **limits)
    token = make_token(settings, "carol", coach=False)
    with TestClient(create_app(settings)) as client:
        yield client, token, settings


@pytest.fixture
def bare(tmp_path: Path) -> Iterator[tuple[TestClient, str, ServerSettings]]:
    """A service without workers, a small size and rate limit."""
    with bare_service(
        tmp_path / "data", max_upload_bytes=400_000, uploads_per_window=3, rate_window_s=60.0
    ) as served:
        yield served


def test_upload_is_queued_then_scored_and_reported(served: Served) -> None:
    assert served.first_state == "queued"
    assert served.final["state"] == "done", served.final
    assert served.final["progress"] == 1.0
    assert served.final["attempts"] == 1
    r = served.client.get(f"/api/uploads/{served.upload_id}/report", headers=bearer(served.alice))
    assert r.status_code == 200
    report = r.json()
    validate_report(report)
    assert report["source"]["path"] == "my set.mp4"  # the client's name, not a server path
    labelled = json.loads(CLIP.with_suffix(".json").read_text())["rep_count"]
    assert report["summary"]["rep_count"] == served.final["rep_count"] == labelled
    assert served.final["score"] == report["summary"]["score"]


def test_video_is_mp4_and_answers_range_requests(served: Served) -> None:
    url = f"/api/uploads/{served.upload_id}/video"
    whole = served.client.get(url, headers=bearer(served.alice))
    assert whole.status_code == 200
    assert whole.headers["content-type"] == "video/mp4"
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.content[4:8] == b"ftyp"
    part = served.client.get(url, headers={**bearer(served.alice), "Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-199/{len(whole.content)}"
    assert part.content == whole.content[100:200]


def test_users_see_only_their_own_uploads_and_the_coach_sees_all(served: Served) -> None:
    c, uid = served.client, served.upload_id
    assert [u["id"] for u in c.get("/api/uploads", headers=bearer(served.alice)).json()] == [uid]
    assert c.get("/api/uploads", headers=bearer(served.bob)).json() == []
    for path in ("", "/report", "/video"):
        assert c.get(f"/api/uploads/{uid}{path}", headers=bearer(served.bob)).status_code == 404
    assert c.delete(f"/api/uploads/{uid}", headers=bearer(served.bob)).status_code == 404
    coach_view = c.get("/api/uploads", headers=bearer(served.coach)).json()
    assert [(u["id"], u["owner"]) for u in coach_view] == [(uid, "alice")]
    assert c.get(f"/api/uploads/{uid}/report", headers=bearer(served.coach)).status_code == 200


def test_result_page_shows_video_plot_table_and_the_html_report(served: Served) -> None:
    c, uid = served.client, served.upload_id
    r = c.post("/login", data={"token": served.alice}, follow_redirects=False)
    assert r.status_code == 303
    try:
        page = c.get(f"/clips/{uid}").text
        assert f'src="/clips/{uid}/video"' in page and "<svg" in page
        assert page.count('<td class="verdict">') == served.final["rep_count"]
        html = c.get(f"/clips/{uid}/report.html")
        assert html.status_code == 200 and "sandbox" in html.headers["content-security-policy"]
        assert "my set.mp4" in html.text
        video = c.get(f"/clips/{uid}/video", headers={"Range": "bytes=0-99"})
        assert video.status_code == 206 and len(video.content) == 100
    finally:
        c.cookies.clear()


def test_wrong_or_missing_token_is_refused(served: Served) -> None:
    c = served.client
    for headers in ({}, bearer("not-a-token"), {"Authorization": "Basic YTpi"}):
        r = c.get("/api/uploads", headers=headers)
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == "Bearer"
    status, _ = upload(c, "not-a-token", CLIP.read_bytes())
    assert status == 401


def test_openapi_documents_the_api(served: Served) -> None:
    paths = served.client.get("/openapi.json").json()["paths"]
    assert {
        "/api/uploads",
        "/api/uploads/{upload_id}",
        "/api/uploads/{upload_id}/report",
        "/api/uploads/{upload_id}/video",
    } <= set(paths)
    assert "multipart/form-data" in paths["/api/uploads"]["post"]["requestBody"]["content"]
    assert served.client.get("/docs").status_code == 404  # Swagger UI loads a CDN script


def test_delete_removes_rows_and_files(bare: tuple[TestClient, str, ServerSettings]) -> None:
    client, token, settings = bare
    status, body = upload(client, token, _small_clip())
    assert status == 201, body
    folder = settings.uploads_dir / str(body["id"])
    assert folder.is_dir()
    assert client.delete(f"/api/uploads/{body['id']}", headers=bearer(token)).status_code == 204
    assert not folder.exists()
    assert client.get(f"/api/uploads/{body['id']}", headers=bearer(token)).status_code == 404
    engine = make_engine(settings.database_url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(jobs)).scalar() == 0
    engine.dispose()


def test_report_of_an_unscored_upload_is_409(bare: tuple[TestClient, str, ServerSettings]) -> None:
    client, token, _ = bare
    status, body = upload(client, token, _small_clip())
    assert status == 201 and body["state"] == "queued"
    r = client.get(f"/api/uploads/{body['id']}/report", headers=bearer(token))
    assert r.status_code == 409


def _small_clip() -> bytes:
    """A sample clip under the bare service's 400 kB limit."""
    data = (SAMPLES / "good_form_portrait_left.mp4").read_bytes()
    assert len(data) < 400_000
    return data


def _assert_nothing_kept(settings: ServerSettings) -> None:
    """A refused upload leaves no folder, no row and no file anywhere in the data dir."""
    assert list(settings.uploads_dir.iterdir()) == []
    engine = make_engine(settings.database_url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(uploads)).scalar() == 0
    engine.dispose()


@pytest.mark.parametrize(
    ("name", "data", "status"),
    [
        ("big.mp4", b"\0" * 500_000, 413),
        ("notes.mp4", b"this is not a video, whatever its name says\n" * 50, 415),
        ("cut.mp4", "truncated", 422),
        ("../../../etc/evil.mp4", "clip", 400),
        ("..\\..\\evil.mp4", "clip", 400),
        ("empty.mp4", b"", 422),
    ],
)
def test_bad_uploads_are_refused_cleanly(
    bare: tuple[TestClient, str, ServerSettings], name: str, data: bytes | str, status: int
) -> None:
    client, token, settings = bare
    if data == "truncated":
        whole = _small_clip()
        data = whole[: len(whole) * 6 // 10]
    elif data == "clip":
        data = _small_clip()
    assert isinstance(data, bytes)
    got, body = upload(client, token, data, name)
    assert got == status, body
    assert isinstance(body["detail"], str) and body["detail"]
    _assert_nothing_kept(settings)
    assert not (settings.data_dir.parent / "etc").exists()


def test_oversize_is_refused_while_streaming(bare: tuple[TestClient, str, ServerSettings]) -> None:
    """No Content-Length to go by (chunked upload): the limit stops the stream itself."""
    client, token, settings = bare
    boundary = "XyZ"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="big.mp4"\r\nContent-Type: video/mp4\r\n\r\n'
    ).encode()

    def body() -> Iterator[bytes]:
        yield head
        for _ in range(10):
            yield b"\0" * 100_000
        yield f"\r\n--{boundary}--\r\n".encode()

    r = client.post(
        "/api/uploads",
        headers={**bearer(token), "Content-Type": f"multipart/form-data; boundary={boundary}"},
        content=body(),
    )
    assert r.status_code == 413
    _assert_nothing_kept(settings)


def test_not_multipart_is_refused(bare: tuple[TestClient, str, ServerSettings]) -> None:
    client, token, settings = bare
    r = client.post("/api/uploads", headers=bearer(token), content=_small_clip())
    assert r.status_code == 400
    _assert_nothing_kept(settings)


def test_a_flood_of_uploads_is_rate_limited(bare: tuple[TestClient, str, ServerSettings]) -> None:
    client, token, settings = bare
    codes = [upload(client, token, _small_clip())[0] for _ in range(6)]
    assert codes == [201, 201, 201, 429, 429, 429]
    r = client.post(
        "/api/uploads",
        headers=bearer(token),
        files={"file": ("x.mp4", io.BytesIO(_small_clip()), "video/mp4")},
    )
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    # The refused ones left nothing behind; another user is not limited by carol's flood.
    assert len(list(settings.uploads_dir.iterdir())) == 3
    dave = make_token(settings, "dave", coach=False)
    assert upload(client, dave, _small_clip())[0] == 201


def test_upload_ids_never_become_paths(bare: tuple[TestClient, str, ServerSettings]) -> None:
    client, token, _ = bare
    for bad in ("..", "..%2F..%2Fsecret.key", "%2e%2e", "0" * 31 + "g"):
        r = client.get(f"/api/uploads/{bad}/report", headers=bearer(token))
        assert r.status_code == 404, bad


def test_queue_claims_are_exclusive_and_a_lost_claim_cannot_finish(tmp_path: Path) -> None:
    """The queue on its own: one job, many claimers; a requeued job's old claim is void."""
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import insert

    from formcheck.server import queue
    from formcheck.server.db import now, users

    engine = make_engine(f"sqlite:///{tmp_path / 'q.db'}")
    with engine.begin() as conn:
        conn.execute(insert(users).values(id=1, name="u", role="client", created_at=now()))
        conn.execute(
            insert(uploads).values(
                id="a" * 32,
                user_id=1,
                filename="x.mp4",
                size_bytes=1,
                duration_s=1.0,
                created_at=now(),
            )
        )
        queue.enqueue(conn, "a" * 32)
    with ThreadPoolExecutor(8) as pool:
        claims = [c for c in pool.map(lambda k: queue.claim_next(engine, f"w{k}"), range(8)) if c]
    assert len(claims) == 1
    first = claims[0]
    assert queue.report_progress(engine, first, 0.5, "analysing")
    # The server dies; the next one hands the job out again; the first claim is void.
    assert queue.requeue_running(engine) == 1
    second = queue.claim_next(engine, "w9")
    assert second is not None and second.attempts == 2
    assert not queue.report_progress(engine, first, 0.9, "rendering")
    assert not queue.finish(engine, first, rep_count=3, score=90)
    assert queue.finish(engine, second, rep_count=2, score=80)
    with engine.connect() as conn:
        row = conn.execute(select(jobs.c.state, jobs.c.rep_count, jobs.c.attempts)).one()
    assert tuple(row) == ("done", 2, 2)
    assert queue.claim_next(engine, "w1") is None
    engine.dispose()


def test_a_job_that_keeps_killing_its_worker_is_given_up(tmp_path: Path) -> None:
    from sqlalchemy import insert

    from formcheck.server import queue
    from formcheck.server.db import now, users

    engine = make_engine(f"sqlite:///{tmp_path / 'q.db'}")
    with engine.begin() as conn:
        conn.execute(insert(users).values(id=1, name="u", role="client", created_at=now()))
        conn.execute(
            insert(uploads).values(
                id="b" * 32,
                user_id=1,
                filename="x.mp4",
                size_bytes=1,
                duration_s=1.0,
                created_at=now(),
            )
        )
        queue.enqueue(conn, "b" * 32)
    for _ in range(queue.MAX_ATTEMPTS):
        assert queue.claim_next(engine, "w") is not None
        assert queue.requeue_stale(engine, lease_s=-1.0) == 1  # silent: handed back
    with engine.connect() as conn:
        state, error = conn.execute(select(jobs.c.state, jobs.c.error)).one()
    assert state == "error" and "gave up" in error
    engine.dispose()


def test_pages_need_a_session_and_every_post_its_csrf_token(
    bare: tuple[TestClient, str, ServerSettings],
) -> None:
    import re

    client, token, settings = bare
    r = client.get("/clips", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert client.post("/login", data={"token": "nope"}).status_code == 401
    assert (
        client.post(
            "/login", data={"token": token}, headers={"Origin": "https://evil.example"}
        ).status_code
        == 403
    )
    r = client.post("/login", data={"token": token}, follow_redirects=False)
    assert r.status_code == 303
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    page = client.get("/upload")
    assert page.status_code == 200 and page.headers["x-frame-options"] == "DENY"
    match = re.search(r'var csrf = "([0-9a-f]+)"', page.text)
    assert match is not None
    csrf = match.group(1)

    def send(headers: dict[str, str]) -> int:
        return client.post(
            "/upload",
            headers=headers,
            files={"file": ("p.mp4", io.BytesIO(_small_clip()), "video/mp4")},
        ).status_code

    assert send({}) == 403
    assert send({"X-CSRF-Token": "0" * 40}) == 403
    assert send({"X-CSRF-Token": csrf, "Origin": "https://evil.example"}) == 403
    assert list(settings.uploads_dir.iterdir()) == []  # refused before reading the body
    assert send({"X-CSRF-Token": csrf}) == 201
    (upload_id,) = [p.name for p in settings.uploads_dir.iterdir()]
    assert "p.mp4" in client.get("/clips").text
    assert "Waiting for a free analyser" in client.get(f"/clips/{upload_id}").text
    assert client.post(f"/clips/{upload_id}/delete").status_code == 403
    assert client.post(f"/clips/{upload_id}/delete", data={"csrf": "x"}).status_code == 403
    r = client.post(f"/clips/{upload_id}/delete", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303 and list(settings.uploads_dir.iterdir()) == []
    r = client.post("/logout", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303 and 'formcheck_session=""' in r.headers["set-cookie"]
