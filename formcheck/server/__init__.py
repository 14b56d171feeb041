"""The upload service (`formcheck serve`): API, pages, database, job queue and workers.

Clients upload a clip; worker processes score it outside the request path; the client
reads the per-rep report, the annotated video and the cues back, in the browser or over
the HTTP API. Every module here sits on top of the pipeline (`formcheck.analyze`) and
nothing in the pipeline imports it.
"""

from formcheck.server.settings import ServerSettings

__all__ = ["ServerSettings"]
