"""Frame sources (video files) and sinks (the annotated video writer)."""

from formcheck.video.frames import Frame, VideoInfo
from formcheck.video.sink import VideoSink
from formcheck.video.source import FileSource, FrameSource, probe

__all__ = ["FileSource", "Frame", "FrameSource", "VideoInfo", "VideoSink", "probe"]
