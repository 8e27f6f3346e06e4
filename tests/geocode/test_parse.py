"""The parser: Shenzhen examples, lexicon overrides, rules, label mapping, shipped models."""

from __future__ import annotations

import gzip
import json
import random
import shutil
from typing import TYPE_CHECKING

import pytest

from geocode.corpus import corpus_path, read_split, score
from geocode.crf import (
    FEATURE_VERSION,
    MODEL_DIR,
    CrfModel,
    SpanLexicon,
    spans_to_tags,
    stack_features,
    tags_to_spans,
)
from geocode.labels import (
    CCKS_TO_ELEMENT,
    ELEMENTS,
    NAACL_TO_ELEMENT,
    SCHEMES,
    scheme_labels,
    to_element,
    to_label,
)
from geocode.lexicon import LexMatch, MemoryLexicon
from geocode.parse import apply_lexicon, apply_rules, default_parser, parse
from geocode.train import WITH_DEV
from twin.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

#: Project-made Shenzhen addresses, segmented and labelled in CCKS labels (no corpus data).
SHENZHEN = [
    "广东省/prov 深圳市/city 宝安区/district 新安街道/town 海滨社区/community 翻身路/road "
    "45号/roadno 富源大厦/poi A座/houseno",
    "深圳市/city 南山区/district 粤海街道/town 科苑路/road 15号/roadno 科兴科学园/poi "
    "B栋/houseno 3单元/cellno 12层/floorno",
    "深圳市/city 福田区/district 福田街道/town 福山社区/community 福华三路/road 88号/roadno "
    "财富大厦/poi 9楼/floorno",
    "龙岗区/district 坂田街道/town 五和大道/road 118号/roadno 和成世纪名园/poi 7栋/houseno",
    "深圳市/city 罗湖区/district 东门街道/town 解放路/road 3002号/roadno",
    "广东省/prov 深圳市/city 龙华区/district 民治街道/town 民康路/road 9号/roadno "
    "深圳市龙华区人民医院/poi",
    "宝安区/district 西乡街道/town 固戍社区/community 固戍一路/road 398号/roadno",
    "深圳市/city 光明区/district 公明街道/town 松白路/road 5040号/roadno",
    "盐田区/district 沙头角街道/town 沙盐路/road 3018号/roadno 盐田区人民医院/poi",
    "深圳市/city 坪山区/district 坪山街道/town 东纵路/road 268号/roadno",
    "南山区/district 蛇口街道/town 工业八路/road 海上世界/poi 5栋/houseno",
    "福田区/district 深南大道/road 6008号/roadno 特区报业大厦/poi 23层/floorno",
]


def _labelled(line: str) -> tuple[str, set[tuple[int, int, str]]]:
    text, spans = "", set()
    for piece in line.split():
        word, _, label = piece.partition("/")
        spans.add((len(text), len(text) + len(word), label))
        text += word
    return text, spans


def test_the_example_address_parses_into_each_element() -> None:
    p = parse("广东省深圳市宝安区新安街道海滨社区宝城76区翻身路45号富源大厦A座1203室")
    got = {(e.kind, e.text) for e in p.elements}
    expected = {
        ("province", "广东省"),
        ("city", "深圳市"),
        ("district", "宝安区"),
        ("street", "新安街道"),
        ("community", "海滨社区"),
        ("road", "翻身路"),
        ("door", "45号"),
        ("poi", "富源大厦"),
        ("building", "A座"),
        ("room", "1203室"),
    }
    assert expected <= got
    for e in p.elements:
        assert p.original[e.start : e.end] == e.text


def test_units_floors_and_normalised_values() -> None:
    p = parse("深圳市南山区粤海街道科苑路15号科兴科学园B座三单元十二楼1203房")
    assert p.get("unit") == "三单元"
    assert p.get("floor") == "十二楼"
    assert p.get("room") == "1203房"
    values = p.as_dict()
    assert values["unit"] == "3单元"
    assert values["floor"] == "12层"
    assert values["room"] == "1203室"


def test_traditional_and_full_width_input_maps_back() -> None:
    p = parse("廣東省深圳市寶安區新安街道翻身路４５號")
    assert p.get("district") == "寶安區"
    assert p.get("door") == "４５號"


def test_intersection_phrase() -> None:
    p = parse("深圳市宝安区新安街道创业路与新安六路交叉口")
    kinds = [e.kind for e in p.elements]
    assert kinds.count("road") == 2
    assert "intersection" in kinds


def test_naacl_model_knows_rooms() -> None:
    p = parse("浙江省杭州市西湖区文三路90号东部软件园3号楼502室", scheme="naacl")
    assert p.get("room") == "502室"
    assert p.get("building") == "3号楼"


def test_bad_input_never_raises() -> None:
    for text in ["", "😀", "\x00\x01", "13812345678", "a" * 10_000, "宝安" * 5_000]:
        p = parse(text)
        for e in p.elements:
            assert p.original[e.start : e.end] == e.text


def test_lexicon_overrides_a_wrong_label_inside_model_boundaries() -> None:
    spans = [(0, 3, "poi", "model"), (3, 6, "road", "model")]
    m = LexMatch(0, 3, "district", "宝安区", True)
    assert apply_lexicon(spans, [m])[0] == (0, 3, "district", "lexicon")


def test_lexicon_splits_a_span_it_starts() -> None:
    spans = [(0, 6, "poi", "model")]
    m = LexMatch(0, 4, "community", "海滨社区", True)
    assert apply_lexicon(spans, [m]) == [(0, 4, "community", "lexicon"), (4, 6, "poi", "model")]


def test_lexicon_leaves_city_names_inside_places() -> None:
    spans = [(0, 6, "poi", "model")]  # 深圳市民中心
    m = LexMatch(0, 3, "city", "深圳市", True)
    assert apply_lexicon(spans, [m]) == spans


def test_lexicon_keeps_short_forms_and_redundant_spans() -> None:
    spans = [(0, 2, "poi", "model"), (2, 5, "redundant", "model")]
    short = LexMatch(0, 2, "district", "宝安区", False)
    full = LexMatch(2, 5, "district", "宝安区", True)
    assert apply_lexicon(spans, [short, full]) == spans


def test_room_rule_trims_what_it_overlaps() -> None:
    spans = [(0, 7, "building", "model")]
    assert apply_rules("A栋1203室", spans) == [
        (0, 2, "building", "model"),
        (2, 7, "room", "rule"),
    ]


def test_memory_lexicon_is_a_lexicon() -> None:
    lex = MemoryLexicon([("district", "宝安区"), ("community", "海滨社区")])
    found = lex.find_all("宝安区海滨社区")
    assert [(m.level, m.is_full) for m in found if m.is_full] == [
        ("district", True),
        ("community", True),
    ]


@pytest.mark.parametrize("scheme", SCHEMES)
def test_label_mapping_round_trips(scheme: str) -> None:
    table = CCKS_TO_ELEMENT if scheme == "ccks" else NAACL_TO_ELEMENT
    for label, element in table.items():
        assert element in ELEMENTS
        assert to_element(label, scheme) == element  # type: ignore[arg-type]
        assert to_label(element, scheme) == label  # type: ignore[arg-type]
    assert set(scheme_labels(scheme)) == set(table)  # type: ignore[arg-type]


def test_label_fallbacks() -> None:
    assert to_label("room", "ccks") is None
    assert to_label("sub_road", "ccks") == "road"
    assert to_label("intersection", "naacl") == "assist"
    assert to_element("devZone", "naacl") == "devzone"


def test_bies_round_trip() -> None:
    spans = [(0, 3, "prov"), (3, 4, "roadno"), (6, 8, "poi")]
    assert tags_to_spans(spans_to_tags(9, spans)) == spans


@pytest.mark.parametrize("scheme", SCHEMES)
def test_shipped_model_is_small_and_documented(scheme: str) -> None:
    model = CrfModel.shipped(scheme)  # type: ignore[arg-type]
    assert (MODEL_DIR / f"{scheme}.crfsuite").stat().st_size < 5_000_000
    assert sum(f.stat().st_size for f in MODEL_DIR.glob(f"{scheme}.*")) < 8_000_000
    meta = model.meta
    assert meta["scheme"] == scheme
    # NAACL reports on test and also learns from dev; CCKS reports on dev and never sees it
    assert meta["training_data"]["split"] == ("train+dev" if scheme in WITH_DEV else "train")
    assert "test" not in meta["training_data"]["file"]
    assert meta["dev"]["f1"] > 0.85


def test_shipped_model_on_project_addresses() -> None:
    parser = default_parser("ccks")
    gold, predicted = [], []
    for line in SHENZHEN:
        text, spans = _labelled(line)
        gold.append(spans)
        predicted.append(
            {(s["start"], s["end"], s["label"]) for s in parser.labelled(text)["spans"]}
        )
    assert score(gold, predicted).f1 >= 0.85


@pytest.mark.parametrize("scheme", SCHEMES)
def test_shipped_model_on_a_dev_sample(scheme: str) -> None:
    """200 addresses of the dev split, read at test time (never copied into the project)."""
    if not corpus_path(scheme, "dev").exists():  # type: ignore[arg-type]
        pytest.skip("../shared/eval is not here; the project-made addresses test still runs")
    examples = read_split(scheme, "dev")  # type: ignore[arg-type]
    sample = random.Random(7).sample(examples, 200)
    parser = default_parser(scheme)  # type: ignore[arg-type]
    predicted = [
        {(s["start"], s["end"], s["label"]) for s in parser.labelled(e.text)["spans"]}
        for e in sample
    ]
    assert score((set(e.spans) for e in sample), predicted).f1 >= 0.85


def test_span_lexicon_keeps_hashes_not_text(tmp_path: Path) -> None:
    lex = SpanLexicon.from_spans(
        [("road", "翻身路"), ("poi", "富源大厦"), ("poi", "富源"), ("roadno", "00"), ("road", "路")]
    )
    path = tmp_path / "x.spans.tsv.gz"
    lex.save(path)
    with gzip.open(path, "rt", encoding="ascii") as fh:
        stored = fh.read()
    assert "road" in stored
    assert "翻身" not in stored  # ASCII only: the corpus's text is not in the file
    again = SpanLexicon.load(path)
    text = "宝安翻身路00号富源大厦"
    # the longest span per label and start; too short and number-only texts are left out
    assert again.find_all(text) == lex.find_all(text) == [(2, 5, "road"), (8, 12, "poi")]
    assert len(again) == 3


def test_stack_features_see_the_first_stage_spans() -> None:
    out: list[list[str]] = [[] for _ in range(6)]
    stack_features(["B-road", "E-road", "O", "B-poi", "I-poi", "E-poi"], out)
    assert {"s0=O", "sq=road", "sn=poi"} <= set(out[2])
    assert {"sl=poi3", "sq=road", "sn=$", "s-1s0=I-poi|E-poi"} <= set(out[5])


def _copy_model(tmp_path: Path, scheme: str, **meta: object) -> Path:
    """Copy a shipped model and its files into ``tmp_path`` with some metadata changed."""
    for file in MODEL_DIR.glob(f"{scheme}.*"):
        shutil.copy(file, tmp_path / file.name)
    path = tmp_path / f"{scheme}.crfsuite"
    meta_path = path.with_suffix(".json")
    data = json.loads(meta_path.read_text(encoding="utf-8"))
    meta_path.write_text(json.dumps({**data, **meta}), encoding="utf-8")
    return path


@pytest.mark.parametrize("scheme", SCHEMES)
def test_model_made_with_other_features_is_refused(tmp_path: Path, scheme: str) -> None:
    path = _copy_model(tmp_path, scheme)
    assert CrfModel(path).tag("深圳市宝安区")
    path = _copy_model(tmp_path, scheme, feature_version=FEATURE_VERSION - 1)
    with pytest.raises(ConfigError, match="other features"):
        CrfModel(path)
    path = _copy_model(tmp_path, scheme, feature_groups=["chars", "words"])
    with pytest.raises(ConfigError, match="does not know"):
        CrfModel(path)


def test_model_without_its_stage_files_is_refused(tmp_path: Path) -> None:
    path = _copy_model(tmp_path, "naacl", feature_groups=["chars", "spans", "stack"])
    SpanLexicon.from_spans([("road", "翻身路")]).save(path.with_suffix(".spans.tsv.gz"))
    path.with_suffix(".first.crfsuite").unlink(missing_ok=True)
    with pytest.raises(ConfigError, match="first stage"):
        CrfModel(path)
    path.with_suffix(".spans.tsv.gz").unlink()
    with pytest.raises(ConfigError, match="span lexicon"):
        CrfModel(path)
