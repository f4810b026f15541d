"""Tiny WeNet-CTC-compatible ONNX models built here, for sherpa-onnx's WeNet CTC loader.

No weights come from anywhere. :func:`build_wenet_dir` writes what a WeNet
export holds (``model.onnx`` + ``tokens.txt``), with the interface
sherpa-onnx's ``offline-wenet-ctc-model.cc`` and its CTC recogniser read
(sherpa-onnx ``scripts/wenet/export-onnx.py``):

* inputs ``x`` (N, T, 80) float fbank frames and ``x_lens`` (N,) int64;
* outputs ``log_probs`` (N, T', V) CTC log-probabilities and
  ``log_probs_lens`` (N,) int64, with T' = T / 4;
* ONNX metadata ``vocab_size`` and ``subsampling_factor`` (sherpa-onnx
  exits the process without them), plus WeNet's ``model_type`` etc.;
* ``tokens.txt`` lines ``SYMBOL ID`` with ``<blank>`` at 0.

The network is a randomly initialised strided convolution (the 4x
subsampling) and a linear CTC head. With ``script`` it also adds a fixed
per-frame bias that spells that text once (token, blank, token, ...), so
sherpa-onnx's real feature extraction, ONNX Runtime forward pass, greedy CTC
search and symbol table produce a known transcript whatever the audio: a
stand-in for a trained Wu model that proves the plumbing, not recognition.
Without ``script`` the output is whatever the random weights give.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

#: What a working Wu recogniser would read from a balance request.
WU_SCRIPT = "阿拉要查一下卡里还有几钿"
SUBSAMPLING = 4
MAX_OUT_FRAMES = 3000  # 120 s of audio at 10 ms frames / 4
SCRIPT_LOGIT = 30.0


def _module(vocab: int, script_ids: Sequence[int] | None, width: int, layers: int):  # type: ignore[no-untyped-def]
    import torch

    class TinyWenetCtc(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = torch.nn.Conv1d(80, width, kernel_size=3, stride=SUBSAMPLING, padding=1)
            self.encoder = torch.nn.Sequential(
                *[
                    torch.nn.TransformerEncoderLayer(
                        width,
                        nhead=max(1, width // 64),
                        dim_feedforward=4 * width,
                        batch_first=True,
                    )
                    for _ in range(layers)
                ]
            )
            self.ctc_lo = torch.nn.Linear(width, vocab)
            bias = torch.zeros(MAX_OUT_FRAMES, vocab)
            if script_ids is not None:
                bias[:, 0] = SCRIPT_LOGIT  # blank everywhere ...
                for i, token in enumerate(script_ids):  # ... but a token every other frame
                    bias[2 * i + 1, 0] = 0.0
                    bias[2 * i + 1, token] = SCRIPT_LOGIT
            self.script: torch.Tensor
            self.register_buffer("script", bias)

        def forward(
            self, x: torch.Tensor, x_lens: torch.Tensor
        ) -> tuple[torch.Tensor, torch.Tensor]:
            h = torch.relu(self.embed(x.transpose(1, 2))).transpose(1, 2)
            h = self.encoder(h)
            logits = self.ctc_lo(h) + self.script[: h.shape[1]].unsqueeze(0)
            lens = torch.div(x_lens - 1, SUBSAMPLING, rounding_mode="floor") + 1
            return torch.log_softmax(logits, dim=-1), lens

    return TinyWenetCtc()


def build_wenet_dir(
    target: Path,
    symbols: Sequence[str],
    *,
    script: str | None = None,
    seed: int = 0,
    width: int = 16,
    layers: int = 0,
    metadata: Mapping[str, str] | None = None,
) -> Path:
    """Write ``model.onnx`` + ``tokens.txt`` of a randomly initialised WeNet-style CTC model.

    Args:
        target: the directory to create.
        symbols: the output symbols after ``<blank>`` and ``<unk>`` (``<sos/eos>`` is appended).
        script: text (characters from ``symbols``) the model spells on any audio; None: random.
        seed: torch seed for the random weights.
        width: the encoder width.
        layers: transformer layers (0 for the tiny test model; more to measure cost).
        metadata: ONNX metadata to write instead of the WeNet export's (to break it on purpose).
    """
    import onnx
    import torch

    table = ["<blank>", "<unk>", *symbols, "<sos/eos>"]
    ids = {s: i for i, s in enumerate(table)}
    script_ids = [ids[c] for c in script] if script is not None else None
    torch.manual_seed(seed)
    model = _module(len(table), script_ids, width, layers).eval()
    target.mkdir(parents=True, exist_ok=True)
    path = target / "model.onnx"
    x = torch.rand(1, 200, 80)
    x_lens = torch.tensor([200], dtype=torch.int64)
    with torch.no_grad():
        torch.onnx.export(
            model,
            (x, x_lens),
            str(path),
            dynamo=False,
            opset_version=13,
            input_names=["x", "x_lens"],
            output_names=["log_probs", "log_probs_lens"],
            dynamic_axes={
                "x": {0: "N", 1: "T"},
                "x_lens": {0: "N"},
                "log_probs": {0: "N", 1: "T"},
                "log_probs_lens": {0: "N"},
            },
        )
    proto = onnx.load(str(path))
    meta = (
        dict(metadata)
        if metadata is not None
        else {
            "model_type": "wenet_ctc",
            "version": "1",
            "model_author": "frontdesk-tests",
            "comment": "non-streaming, randomly initialised",
            "subsampling_factor": str(SUBSAMPLING),
            "vocab_size": str(len(table)),
        }
    )
    del proto.metadata_props[:]
    for key, value in meta.items():
        prop = proto.metadata_props.add()
        prop.key, prop.value = key, value
    onnx.save(proto, str(path))
    (target / "tokens.txt").write_text(
        "".join(f"{s} {i}\n" for i, s in enumerate(table)), encoding="utf-8"
    )
    return target
