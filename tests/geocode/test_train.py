"""The training command and the ``ccks`` feature group (another corpus's model as a guide).

The training tests run ``geocode.train`` end to end on a small NAACL-format corpus written
here from project-made Shenzhen addresses (no corpus data): a guided (and stacked)
perceptron, trained on ``train`` and then on ``train`` + ``dev``.
"""

from __future__ import annotations

import json
import shutil
from typing import TYPE_CHECKING

import pytest

from geocode.crf import (
    GAZETTEER_FILE,
    GUIDE_FILE,
    MODEL_DIR,
    CrfModel,
    file_digest,
    guide_features,
    guide_path,
)
from geocode.normalize import normalize
from geocode.train import SCHEME_GROUPS, WITH_DEV, train_one
from twin.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

#: Project-made addresses in NAACL labels (one ``text/label`` piece per element).
ADDRESSES = [
    "广东省/prov 深圳市/city 宝安区/district 新安街道/town 海滨社区/community 翻身路/road "
    "45号/roadno 富源大厦/poi A座/houseno 1203室/roomno",
    "深圳市/city 南山区/district 粤海街道/town 科苑路/road 15号/roadno 科兴科学园/poi "
    "B栋/houseno 3单元/cellno 12层/floorno",
    "深圳市/city 福田区/district 福华三路/road 88号/roadno 财富大厦/poi 9楼/floorno",
    "龙岗区/district 坂田街道/town 五和大道/road 118号/roadno 和成世纪名园/poi 7栋/houseno "
    "2-/redundant 301/roomno",
    "深圳市/city 罗湖区/district 东门街道/town 解放路/road 3002号/roadno",
    "深圳市/city 深圳市/redundant 龙华区/district 民治街道/town 民康路/road 9号/roadno",
    "宝安区/district 西乡街道/town 固戍社区/community 固戍一路/road 398号/roadno 电联/redundant",
    "深圳市/city 光明区/district 公明街道/town 松白路/road 5040号/roadno 光明小学/poi",
]


def _write_naacl(path: Path, lines: list[str]) -> None:
    """Write addresses in the NAACL file format: one character and its BIO tag a line."""
    rows = []
    for line in lines:
        for piece in line.split():
            word, _, label = piece.partition("/")
            rows += [f"{c} {'B' if k == 0 else 'I'}-{label}" for k, c in enumerate(word)]
        rows.append("")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> tuple[Path, Path]:
    """An eval folder with a tiny NAACL corpus, and a model folder with the gazetteer."""
    corpus = tmp_path / "eval" / "naacl2019-addr-parsing"
    corpus.mkdir(parents=True)
    _write_naacl(corpus / "train.txt", ADDRESSES[:6])
    _write_naacl(corpus / "dev.txt", ADDRESSES[6:])
    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(MODEL_DIR / GAZETTEER_FILE, models / GAZETTEER_FILE)
    return tmp_path / "eval", models


AP = {"max_iterations": 5, "feature.possible_transitions": True}


def test_training_a_guided_stacked_model(tiny_corpus: tuple[Path, Path]) -> None:
    eval_dir, models = tiny_corpus
    groups = (*SCHEME_GROUPS["naacl"], "stack")
    assert "ccks" in groups
    meta = train_one("naacl", eval_dir, models, AP, groups, "ap")
    assert meta["training_data"]["split"] == "train"
    assert meta["training_data"]["examples"] == 6
    # the guide is the shipped CCKS model (none beside the new one), named by its hash
    assert meta["guide"] == {
        "model": GUIDE_FILE,
        "sha256": file_digest(MODEL_DIR / GUIDE_FILE),
    }
    assert (models / "naacl.first.crfsuite").exists()
    model = CrfModel(models / "naacl.crfsuite")
    tags = model.tag(normalize("深圳市南山区科苑路15号").text)
    assert len(tags) == len("深圳市南山区科苑路15号")
    assert 0.0 <= meta["dev"]["f1"] <= 1.0


def test_training_with_dev_scores_dev_before_it_sees_it(
    tiny_corpus: tuple[Path, Path],
) -> None:
    eval_dir, models = tiny_corpus
    assert "ccks" not in WITH_DEV  # CCKS reports on dev: it never trains on it
    both = train_one("naacl", eval_dir, models, AP, ("chars", "suffix"), "ap", with_dev=True)
    assert both["training_data"]["split"] == "train+dev"
    assert both["training_data"]["examples"] == 8
    assert both["training_data"]["file"] == "train.txt+dev.txt"
    assert len(both["training_data"]["sha256"].split("+")) == 2
    # the dev figure is the train-only run's, and says so
    assert both["dev"]["split"] == "dev" and both["dev"]["examples"] == 2
    assert both["dev"]["model"] == "the same recipe trained on train alone"
    written = json.loads((models / "naacl.json").read_text(encoding="utf-8"))
    assert written["training_data"]["split"] == "train+dev"


def test_guide_reads_the_guided_models_features() -> None:
    """The CCKS model tags the NAACL model's features as it tags its own."""
    naacl = CrfModel.shipped("naacl")
    ccks = CrfModel.shipped("ccks")
    for address in [
        "广东省深圳市宝安区新安街道海滨社区宝城76区翻身路45号富源大厦A座1203室",
        "浙江省杭州市西湖区文三路90号东部软件园3号楼502室",
        "宁波市鄞州区石碶街道雅戈尔大道1号",
    ]:
        text = normalize(address).text
        assert ccks.tag_features(naacl.features(text)) == ccks.tag(text)


def test_guide_features_mark_the_guides_spans() -> None:
    out: list[list[str]] = [[] for _ in range(5)]
    guide_features(["B-city", "E-city", "O", "B-poi", "E-poi"], out)
    assert {"x0=B-city", "x-1=^", "x1=E-city", "xl=city2", "xq=^", "xn=poi"} <= set(out[0])
    assert {"x0=O", "x01=O|B-poi"} <= set(out[2])
    assert not any(f.startswith("xl=") for f in out[2])  # outside every span
    assert {"xl=poi2", "xq=city", "xn=$", "x1=$"} <= set(out[4])


def _copy_naacl(tmp_path: Path) -> Path:
    for file in MODEL_DIR.glob("naacl.*"):
        shutil.copy(file, tmp_path / file.name)
    return tmp_path / "naacl.crfsuite"


def test_guided_model_refuses_another_guide(tmp_path: Path) -> None:
    path = _copy_naacl(tmp_path)
    assert guide_path(path) == MODEL_DIR / GUIDE_FILE
    assert CrfModel(path).tag("深圳市宝安区")
    # a different CCKS model beside it: its tags would not be the ones it learned from
    shutil.copy(MODEL_DIR / "naacl.crfsuite", tmp_path / GUIDE_FILE)
    shutil.copy(MODEL_DIR / "ccks.json", tmp_path / "ccks.json")
    assert guide_path(path) == tmp_path / GUIDE_FILE
    with pytest.raises(ConfigError, match=r"another ccks\.crfsuite"):
        CrfModel(path)


def test_guided_model_without_its_guide_hash_is_refused(tmp_path: Path) -> None:
    path = _copy_naacl(tmp_path)
    meta_path = path.with_suffix(".json")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta_path.write_text(json.dumps({**meta, "guide": None}), encoding="utf-8")
    with pytest.raises(ConfigError, match="another"):
        CrfModel(path)
