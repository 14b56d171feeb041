"""Frame sources (video files) and sinks (the annotated video writer)."""

from formcheck.video.frames import Frame, Progress, VideoInfo
from formcheck.video.sink import VideoSink
from formcheck.video.source import FileSource, FrameSource, probe

__all__ = ["FileSource", "Frame", "FrameSource", "Progress", "VideoInfo", "VideoSink", "probe"]
