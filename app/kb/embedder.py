"""Sentence embeddings computed in process with onnxruntime, from the files in `var/models`.

Each embedder turns texts into L2-normalised float32 vectors, so a dot product is a cosine.
`embed` is plain CPU work with no event loop inside: call it from a worker thread (for
example `anyio.to_thread.run_sync`) so it does not block the server. One embedder may be used
from several threads at once (onnxruntime sessions allow concurrent `run`).

Loading never downloads anything: a missing or damaged file raises `ModelUnavailable` with
the reason, and `python -m app.kb.models fetch` is what puts the files in place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray

from app.kb import models

Vectors = NDArray[np.float32]


class ModelUnavailable(RuntimeError):
    """An embedding model cannot be loaded; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@runtime_checkable
class Embedder(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed(self, texts: list[str]) -> Vectors:
        """One L2-normalised row of `dim` float32 values per text, in order."""
        ...


def _checked_dir(name: str, root: Path | None, verify: bool) -> Path:
    """The model's directory, after making sure each of its files is there (and, when
    `verify`, is the pinned file)."""
    directory = models.model_dir(name, root)
    for member in models.spec(name).files():
        path = directory / member.filename
        if not path.is_file():
            raise ModelUnavailable(
                f"{name}: {path} is missing (run: python -m app.kb.models fetch {name})"
            )
        if verify and (reason := models.problem(member, directory)) is not None:
            raise ModelUnavailable(f"{name}: {reason} (run: python -m app.kb.models fetch {name})")
    return directory


def _session(path: Path, threads: int, custom_ops: str | None = None) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    if custom_ops is not None:
        options.register_custom_ops_library(custom_ops)
    try:
        return ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as error:  # onnxruntime raises its own exception types for bad files
        raise ModelUnavailable(f"{path}: onnxruntime cannot load it: {error}") from error


def _normalised(rows: NDArray[np.float32]) -> Vectors:
    norms: NDArray[np.float32] = np.linalg.norm(rows, axis=1, keepdims=True)
    out: Vectors = np.divide(rows, np.maximum(norms, 1e-12), dtype=np.float32)
    return out


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (English, 384 dimensions): WordPiece tokens, at most `max_tokens` of
    them per text, mean pooling over the real tokens, then L2 normalisation.

    By default each text is run on its own: on CPU that is faster than padded batches and keeps
    memory low. With `batch_size` > 1, texts are batched by similar length; a text's vector
    does not depend on the others in its batch either way.
    """

    name = models.MINILM
    dim = 384

    def __init__(
        self,
        root: Path | None = None,
        *,
        threads: int = 1,
        max_tokens: int = 256,
        batch_size: int = 1,
        verify: bool = True,
    ) -> None:
        try:
            from tokenizers import Tokenizer
        except ImportError as error:
            raise ModelUnavailable(
                f"{self.name}: the tokenizers package is not installed"
            ) from error
        directory = _checked_dir(self.name, root, verify)
        try:
            tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        except Exception as error:  # the tokenizers package raises a bare Exception
            raise ModelUnavailable(f"{self.name}: cannot read tokenizer.json: {error}") from error
        tokenizer.enable_truncation(max_length=max_tokens)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the batch's longest text
        self._tokenizer = tokenizer
        self._session = _session(directory / "model.onnx", threads)
        inputs = {tensor.name for tensor in self._session.get_inputs()}
        if not {"input_ids", "attention_mask"} <= inputs:
            raise ModelUnavailable(f"{self.name}: unexpected model inputs {sorted(inputs)}")
        self._token_types = "token_type_ids" in inputs
        self._batch_size = max(1, batch_size)

    def embed(self, texts: list[str]) -> Vectors:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda index: len(texts[index]))
        for start in range(0, len(order), self._batch_size):
            batch = order[start : start + self._batch_size]
            out[batch] = self._run([texts[index] for index in batch])
        return out

    def _run(self, texts: list[str]) -> Vectors:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([encoding.ids for encoding in encodings], dtype=np.int64)
        mask = np.array([encoding.attention_mask for encoding in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if self._token_types:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = np.asarray(self._session.run(["last_hidden_state"], feeds)[0], dtype=np.float32)
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return _normalised(pooled)


class USEMultilingualEmbedder:
    """Universal Sentence Encoder multilingual v3 (16 languages, 512 dimensions). The graph
    tokenizes the raw strings itself, with operators from onnxruntime-extensions.

    The int8 graph quantizes activations over its whole input, so one text per run keeps a
    text's vector independent of what else is being embedded. Texts longer than `max_chars`
    are cut (sections longer than that are rare and their start carries the topic).
    """

    name = models.USE_MULTILINGUAL
    dim = 512

    def __init__(
        self,
        root: Path | None = None,
        *,
        threads: int = 1,
        max_chars: int = 2000,
        verify: bool = True,
    ) -> None:
        try:
            import onnxruntime_extensions
        except ImportError as error:
            raise ModelUnavailable(
                f"{self.name}: the onnxruntime-extensions package is not installed"
            ) from error
        directory = _checked_dir(self.name, root, verify)
        self._session = _session(
            directory / "model.onnx", threads, custom_ops=onnxruntime_extensions.get_library_path()
        )
        inputs = [tensor.name for tensor in self._session.get_inputs()]
        if inputs != ["inputs"]:
            raise ModelUnavailable(f"{self.name}: unexpected model inputs {inputs}")
        self._max_chars = max_chars

    def embed(self, texts: list[str]) -> Vectors:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for index, text in enumerate(texts):
            feed = {"inputs": np.array([text[: self._max_chars]], dtype=object)}
            out[index] = np.asarray(self._session.run(["outputs"], feed)[0], dtype=np.float32)[0]
        return _normalised(out)


EMBEDDERS: dict[str, type[MiniLMEmbedder] | type[USEMultilingualEmbedder]] = {
    MiniLMEmbedder.name: MiniLMEmbedder,
    USEMultilingualEmbedder.name: USEMultilingualEmbedder,
}


def load(name: str, root: Path | None = None, *, threads: int = 1) -> Embedder:
    """The embedder for model `name`, built from the files under `root` (default
    `var/models`)."""
    try:
        cls = EMBEDDERS[name]
    except KeyError:
        raise ModelUnavailable(f"unknown embedding model {name!r}") from None
    return cls(root, threads=threads)
