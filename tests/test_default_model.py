"""The shipped default model: the one test that reads models/."""

from __future__ import annotations

import pytest

from training import artifacts
from training.config import REPO_ROOT
from training.evaluate import score
from training.tagger import Tagger

MODELS = REPO_ROOT / "models"

# Our own sentences, one clear case per label and a few combinations.
CASES = [
    ("乌兰察布市集宁区公安分局刑警大队连夜追踪，成功抓获盗窃电动车的犯罪嫌疑人两名。", {"policing"}),
    ("阿荣旗人民法院公开开庭审理一起民间借贷纠纷案，当庭判决被告归还借款八万元。", {"courts"}),
    ("包头市昆都仑区人民检察院依法对涉嫌诈骗的王某批准逮捕，并向有关单位发出检察建议。", {"procuratorate"}),
    ("宪法宣传周期间，司法局工作人员走进嘎查，向牧民发放普法宣传册，讲解民法典中的婚姻家庭规定。", {"legal_publicity"}),
    ("社区网格员入户走访，收集居民对老旧小区改造的意见建议。", set()),
    ("派出所民警走进中学课堂，以真实案例讲解电信网络诈骗的常见手法，提醒学生守住钱袋子、学法懂法。", {"policing", "legal_publicity"}),
]


@pytest.fixture(scope="module")
def default_tagger() -> Tagger:
    version = artifacts.read_active(MODELS)["active"]
    assert version, "models/active.json must name the shipped default model"
    model, meta = artifacts.load_model(MODELS, version)  # verifies the format and every checksum
    return Tagger(model, meta)


def test_default_model_metadata_is_complete(default_tagger):
    meta = default_tagger.meta
    assert meta["labels"] == ["policing", "courts", "procuratorate", "legal_publicity"]
    assert set(meta["thresholds"]) == set(meta["labels"])
    assert meta["training"]["rows"] >= 800
    assert meta["metrics"]["cv"]["macro_f1"] > 0.9
    for name in ("seeds", "lawcrime"):  # measured on the real gold sets by bench.record_gold
        assert meta["metrics"]["gold"][name]["macro_f1"] > meta["metrics"]["keyword_baseline"][name]["macro_f1"]


@pytest.mark.parametrize("text,expected", CASES)
def test_default_model_tags_our_sentences(default_tagger, text, expected):
    assert set(default_tagger.classify([text])[0].labels) == expected
