"""Schemas for dictation requests and transcripts."""

from __future__ import annotations

import marshmallow as ma
from flask_smorest.fields import Upload
from marshmallow import validate


class AudioFileSchema(ma.Schema):
    audio = Upload(required=True)


class DictationOptionsSchema(ma.Schema):
    """Options shared by the upload form and the stream's query string."""

    class Meta:
        unknown = ma.EXCLUDE

    area = ma.fields.String(
        validate=validate.Length(min=1, max=32),
        load_default=None,
        metadata={"description": "区域编码：用其地名作为热词；不填则用本人所属区域"},
    )
    keep = ma.fields.Boolean(
        load_default=True,
        metadata={"description": "保存录音作为证据文件（返回 audio_file），默认保存"},
    )


class StreamOptionsSchema(DictationOptionsSchema):
    sample_rate = ma.fields.Integer(
        load_default=16000,
        validate=validate.Equal(16000, error="只支持 16000 Hz 采样率的 PCM16 音频"),
        metadata={"description": "只接受 16 kHz 单声道 16 位 PCM"},
    )
    access_token = ma.fields.String(
        load_default=None,
        metadata={"description": "浏览器无法设置 Authorization 头时，可用此参数传访问令牌"},
    )


class SegmentSchema(ma.Schema):
    start = ma.fields.Float(metadata={"description": "开始时间（秒）"})
    end = ma.fields.Float(metadata={"description": "结束时间（秒）"})
    text = ma.fields.String()


class TranscriptSchema(ma.Schema):
    text = ma.fields.String(metadata={"description": "加标点、数字规整后的简体中文"})
    segments = ma.fields.List(ma.fields.Nested(SegmentSchema))
    duration_s = ma.fields.Float()
    engine = ma.fields.String()
    model = ma.fields.String()
    timing_ms = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Float())
    corrections = ma.fields.List(
        ma.fields.List(ma.fields.String()),
        metadata={"description": "按地名热词纠正的片段：[识别结果, 纠正为]"},
    )
    warnings = ma.fields.List(
        ma.fields.String(), metadata={"description": "音频本身的问题，如文件头采样率与实际不符"}
    )
    audio_file = ma.fields.String(
        allow_none=True, metadata={"description": "保存的录音文件 sha256（keep=false 时为空）"}
    )
