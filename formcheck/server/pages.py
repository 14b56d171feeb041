"""The web pages: log in with a token, upload with a progress bar, my clips, a clip's result.

Server-rendered with Jinja2 (autoescaped), a little plain JavaScript for the upload progress
and the status polling; nothing to build. Logging in with the API token opens a session
(`formcheck.server.auth`: its own random value in an HttpOnly, SameSite=Strict cookie,
expiring, ended by logout); every state-changing post carries the session's CSRF token (a form
field, or the X-CSRF-Token header for the upload), and a cross-site Origin is refused.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.requests import HTTPConnection

from formcheck.server import service
from formcheck.server.auth import (
    COOKIE_NAME,
    SESSION_MAX_AGE_S,
    User,
    close_session,
    csrf_ok,
    csrf_token,
    open_session,
    user_for_session,
)
from formcheck.server.service import Service, UploadInfo
from formcheck.server.storage import HTML_NAME, REPORT_NAME, TRACE_NAME
from formcheck.server.worker import load_trace

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))


class LoginRequiredError(Exception):
    """A page needs a session: the app answers with a redirect to /login."""


def login_redirect(_request: Request) -> Response:
    return RedirectResponse("/login", status_code=303)


def service_of(conn: HTTPConnection) -> Service:
    """The app's shared state, for a request or a WebSocket."""
    svc: Service = conn.app.state.service
    return svc


def session_user(conn: HTTPConnection) -> User | None:
    """The user whose session cookie the request or WebSocket handshake carries, or None."""
    return user_for_session(service_of(conn).engine, conn.cookies.get(COOKIE_NAME))


def page_user(request: Request) -> User:
    """The logged-in user of a page request, else a redirect to the login page."""
    user = session_user(request)
    if user is None:
        raise LoginRequiredError()
    return user


def json_user(request: Request) -> User:
    """The logged-in user of a script request from a page (status, upload), else 401."""
    user = session_user(request)
    if user is None:
        raise HTTPException(401, "log in again")
    return user


def same_origin(conn: HTTPConnection, missing_ok: bool = True) -> bool:
    """A browser sends Origin on posts and WebSocket handshakes; one from another site is a
    forged request. The service's own origin is the request's Host, or `--public-url`
    behind a proxy that rewrites Host. Without an Origin: `missing_ok` (a post from a
    non-browser client; a WebSocket always has one)."""
    origin = conn.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None and missing_ok
    public = service_of(conn).settings.public_url
    if public and origin.rstrip("/") == public.rstrip("/"):
        return True
    host = conn.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


def _secure(request: Request) -> bool:
    """Is the page served over HTTPS (directly, or behind a proxy that says so)?"""
    public = service_of(request).settings.public_url or ""
    return request.url.scheme == "https" or public.startswith("https://")


def _check_post(request: Request, user: User, token: str | None) -> None:
    if not same_origin(request) or not csrf_ok(service_of(request).secret, user, token):
        raise HTTPException(403, "stale or forged form: reload the page and try again")


def _render(
    request: Request, name: str, user: User | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    csrf = csrf_token(service_of(request).secret, user) if user else ""
    return templates.TemplateResponse(
        request, name, {"user": user, "csrf": csrf, **context}, status_code=status_code
    )


PageUser = Annotated[User, Depends(page_user)]
JsonUser = Annotated[User, Depends(json_user)]


@router.get("/")
def home(request: Request) -> Response:
    return RedirectResponse("/clips" if session_user(request) else "/login", status_code=303)


@router.get("/login")
def login_page(request: Request) -> HTMLResponse:
    return _render(request, "login.html", None)


@router.post("/login")
def login(request: Request, token: Annotated[str, Form(max_length=200)]) -> Response:
    if not same_origin(request):
        raise HTTPException(403, "cross-site login refused")
    svc = service_of(request)
    client = request.client.host if request.client else ""
    wait_s = svc.logins.allow(client)  # counts this try; a right one is given back below
    if wait_s:
        raise HTTPException(
            429,
            f"too many wrong logins: try again in {wait_s:.0f} s",
            headers={"Retry-After": str(int(wait_s) + 1)},
        )
    session = open_session(svc.engine, token.strip())
    if session is None:
        return _render(
            request,
            "login.html",
            None,
            status_code=401,
            error="That token is not valid. Ask your coach for yours.",
        )
    svc.logins.refund(client)
    response = RedirectResponse("/clips", status_code=303)
    response.set_cookie(
        COOKIE_NAME,
        session,
        max_age=SESSION_MAX_AGE_S,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/",
    )
    return response


@router.post("/logout")
def logout(
    request: Request, user: PageUser, csrf: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    _check_post(request, user, csrf)
    close_session(service_of(request).engine, request.cookies.get(COOKIE_NAME))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="strict")
    return response


@router.get("/live")
def live_page(request: Request, user: PageUser) -> HTMLResponse:
    """The Live page: the phone's camera coached set by set (`formcheck.server.live`)."""
    if request.app.state.live.limit == 0:
        raise HTTPException(404, "live coaching is off on this server (--max-live 0)")
    return _render(request, "live.html", user)


@router.get("/upload")
def upload_page(request: Request, user: PageUser) -> HTMLResponse:
    max_mb = service_of(request).settings.max_upload_bytes / (1024 * 1024)
    return _render(request, "upload.html", user, max_mb=max_mb)


@router.post("/upload")
async def upload(request: Request, user: JsonUser) -> Response:
    """The upload page's XMLHttpRequest: CSRF in the X-CSRF-Token header (checked before a
    byte of the body is read), answers JSON like the API."""
    _check_post(request, user, request.headers.get("x-csrf-token"))
    info, _fields = await service.accept_upload(service_of(request), request, user)
    return JSONResponse(info.model_dump(), status_code=201)


@router.get("/clips")
def clips(request: Request, user: PageUser) -> HTMLResponse:
    items = service.list_uploads(service_of(request), user)
    pending = any(i.state in ("queued", "running") for i in items)
    return _render(request, "clips.html", user, clips=items, pending=pending)


@router.get("/clips/{upload_id}/status")
def clip_status(request: Request, upload_id: str, user: JsonUser) -> UploadInfo:
    return service.get_upload(service_of(request), user, upload_id)


@router.get("/clips/{upload_id}/video")
def clip_video(request: Request, upload_id: str, user: PageUser) -> Response:
    return service.result_response(service_of(request), user, upload_id, "video", request)


@router.get("/clips/{upload_id}/report.json")
def clip_report(request: Request, upload_id: str, user: PageUser) -> Response:
    return service.result_response(service_of(request), user, upload_id, "report", request)


@router.get("/clips/{upload_id}/report.html")
def clip_report_html(request: Request, upload_id: str, user: PageUser) -> Response:
    """The self-contained HTML report (`formcheck.report.html`): one file to keep or send."""
    return service.result_response(service_of(request), user, upload_id, "html", request)


@router.post("/clips/{upload_id}/delete")
def clip_delete(
    request: Request,
    upload_id: str,
    user: PageUser,
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    _check_post(request, user, csrf)
    service.delete_upload(service_of(request), user, upload_id)
    return RedirectResponse("/clips", status_code=303)


@router.get("/clips/{upload_id}")
def clip_page(request: Request, upload_id: str, user: PageUser) -> HTMLResponse:
    svc = service_of(request)
    info = service.get_upload(svc, user, upload_id)
    context: dict[str, Any] = {"clip": info, "report": None, "plot": {}, "html_report": False}
    if info.state == "done":
        raw = svc.store.read_bytes(upload_id, REPORT_NAME)
        try:
            report = None if raw is None else json.loads(raw)
        except ValueError:
            report = None
        if report is not None:
            context.update(
                report=report,
                reps=[_rep_row(r) for r in report["reps"]],
                plot=_angle_plot(svc, report, svc.store.read_bytes(upload_id, TRACE_NAME)),
                html_report=svc.store.exists(upload_id, HTML_NAME),
            )
    return _render(request, "clip.html", user, **context)


def _angle_plot(
    svc: Service, report: dict[str, Any], trace_json: bytes | None
) -> dict[str, Markup]:
    """The hip angle over time with the reps shaded, as inline SVG made server-side by the
    HTML report's plotter: a wide drawing for screens and a compact one for phones."""
    import numpy as np

    from formcheck.report.plots import AngleSeries, angle_timeline_svg

    trace = load_trace(trace_json)
    series = None
    if trace is not None:
        series = AngleSeries(
            np.asarray(trace[0], dtype=np.float64), np.asarray(trace[1], dtype=np.float64)
        )
    duration_s = float(report["source"]["duration_s"] or 0.0)
    # matplotlib's own SVG with no user text in it: safe to mark as markup.
    return {
        shape: Markup(
            angle_timeline_svg(report["reps"], svc.config.rules, series, duration_s, shape)
        )
        for shape in ("wide", "compact")
    }


def _fmt(x: Any, digits: int = 1, unit: str = "") -> str:
    if not isinstance(x, (int, float)) or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.{digits}f}{unit}"


def _rep_row(rep: dict[str, Any]) -> dict[str, Any]:
    """One row of the per-rep table: formatted values and the rep's faults and cue."""
    faults = [f for f in rep["findings"] if f["status"] == "fault"]
    judged = [f for f in rep["findings"] if f["status"] != "not_judged"]
    return {
        "index": rep["index"],
        "time": f"{_fmt(rep['start_s'])}–{_fmt(rep['end_s'])} s",
        "hip": _fmt(rep["hip_angle_top_deg"], 0, "°"),
        "shin": _fmt(rep.get("shin_tilt_top_deg"), 0, "°"),
        "pause": _fmt(rep["pause_s"], 1, " s"),
        "lowering": _fmt(rep["eccentric_s"], 1, " s"),
        "band": rep["band"],
        "score": rep["score"],
        "faults": [str(f["fault"]).replace("_", " ") for f in faults],
        "cue": faults[0]["cue"] if faults else "",
        "judged": len(judged),
    }
