"""The HTTP API under /api, for scripts and apps: `Authorization: Bearer <token>`.

FastAPI publishes its schema at /openapi.json (OpenAPI). Every route works on the caller's
own uploads, or on everyone's for a coach.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import FileResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from formcheck.server import service
from formcheck.server.auth import User, user_for_token
from formcheck.server.service import Service, UploadInfo
from formcheck.server.storage import REPORT_NAME

router = APIRouter(prefix="/api", tags=["uploads"])
_bearer = HTTPBearer(
    auto_error=False, description="A token from `formcheck serve --create-token NAME`."
)

_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "The clip (any video FFmpeg reads).",
                        }
                    },
                }
            }
        },
    }
}


def get_service(request: Request) -> Service:
    svc: Service = request.app.state.service
    return svc


def api_user(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    """The caller, from the Bearer token; 401 without a valid one."""
    user = user_for_token(get_service(request).engine, creds.credentials if creds else None)
    if user is None:
        raise HTTPException(
            401,
            "a valid API token is needed (Authorization: Bearer ...)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


SvcDep = Annotated[Service, Depends(get_service)]
UserDep = Annotated[User, Depends(api_user)]


@router.post(
    "/uploads",
    status_code=201,
    response_model=UploadInfo,
    openapi_extra=_UPLOAD_BODY,
    responses={
        400: {"description": "not multipart, or a path as filename"},
        413: {"description": "too large"},
        415: {"description": "not a video"},
        422: {"description": "truncated or empty video"},
        429: {"description": "too many uploads"},
    },
)
async def create_upload(request: Request, svc: SvcDep, user: UserDep) -> UploadInfo:
    """Upload a clip (multipart field `file`); it is queued for scoring at once."""
    info, _fields = await service.accept_upload(svc, request, user)
    return info


@router.get("/uploads", response_model=list[UploadInfo])
def list_uploads(svc: SvcDep, user: UserDep) -> list[UploadInfo]:
    """My uploads, newest first (a coach: everyone's)."""
    return service.list_uploads(svc, user)


@router.get("/uploads/{upload_id}", response_model=UploadInfo)
def get_upload(upload_id: str, svc: SvcDep, user: UserDep) -> UploadInfo:
    """An upload's status: state (queued, running, done, error), progress 0..1, score."""
    return service.get_upload(svc, user, upload_id)


@router.get("/uploads/{upload_id}/report", responses={409: {"description": "not scored yet"}})
async def get_report(upload_id: str, svc: SvcDep, user: UserDep) -> dict[str, Any]:
    """The report: the `formcheck analyze --json` contract (schema_version 1)."""
    raw = await run_in_threadpool(service.result_bytes, svc, user, upload_id, REPORT_NAME)
    data: dict[str, Any] = json.loads(raw)
    return data


@router.get(
    "/uploads/{upload_id}/video",
    response_class=FileResponse,
    responses={
        200: {"content": {"video/mp4": {}}},
        206: {"description": "a range"},
        409: {"description": "not scored yet"},
    },
)
def get_video(upload_id: str, request: Request, svc: SvcDep, user: UserDep) -> Response:
    """The annotated H.264 MP4; answers Range requests (206) so players can seek."""
    return service.result_response(svc, user, upload_id, "video", request)


@router.delete("/uploads/{upload_id}", status_code=204)
def delete_upload(upload_id: str, svc: SvcDep, user: UserDep) -> Response:
    """Delete an upload, its job and its files."""
    service.delete_upload(svc, user, upload_id)
    return Response(status_code=204)
