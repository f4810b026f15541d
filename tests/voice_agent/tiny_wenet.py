"""Tiny WeNet-CTC-compatible ONNX models built here, for sherpa-onnx's WeNet CTC loader.

No weights come from anywhere. :func:`build_wenet_dir` writes what a WeNet
export holds (``model.onnx`` + ``tokens.txt``), with the interface
sherpa-onnx's ``offline-wenet-ctc-model.cc`` and its CTC recogniser read
(sherpa-onnx ``scripts/wenet/export-onnx.py``):

* inputs ``x`` (N, T, 80) float fbank frames and ``x_lens`` (N,) int64 (opset 17);
* outputs ``log_probs`` (N, T', V) CTC log-probabilities and
  ``log_probs_lens`` (N,) int64, with T' = T / 4;
* ONNX metadata ``vocab_size`` and ``subsampling_factor`` (sherpa-onnx
  exits the process without them), plus WeNet's ``model_type`` etc.;
* ``tokens.txt`` lines ``SYMBOL ID`` with ``<blank>`` at 0.

The network is randomly initialised: WeNet's 4x convolutional subsampling
(two 3x3 stride-2 convolutions), optional transformer layers, a linear CTC
head. With ``script`` it also adds a fixed per-frame bias that spells that
text once (token, blank, token, ...; about 1 s of audio for 12 tokens), so
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


def _block(width: int):  # type: ignore[no-untyped-def]
    """A pre-norm transformer layer written with reshape(-1) so that T stays dynamic in ONNX.

    (torch.nn.TransformerEncoderLayer traced this way bakes the example's
    length into a Reshape: sherpa-onnx then fails on any other length.)
    """
    import torch

    class Block(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.heads = max(1, width // 64)
            self.ln1 = torch.nn.LayerNorm(width)
            self.qkv = torch.nn.Linear(width, 3 * width)
            self.proj = torch.nn.Linear(width, width)
            self.ln2 = torch.nn.LayerNorm(width)
            self.ff1 = torch.nn.Linear(width, 4 * width)
            self.ff2 = torch.nn.Linear(4 * width, width)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            n, h, d = x.shape[0], self.heads, width // self.heads
            q, k, v = (
                t.reshape(n, -1, h, d).transpose(1, 2)
                for t in self.qkv(self.ln1(x)).chunk(3, dim=-1)
            )
            att = torch.softmax(q @ k.transpose(-1, -2) / d**0.5, dim=-1) @ v
            x = x + self.proj(att.transpose(1, 2).reshape(n, -1, width))
            return x + self.ff2(torch.relu(self.ff1(self.ln2(x))))

    return Block()


def _module(vocab: int, script_ids: Sequence[int] | None, width: int, layers: int):  # type: ignore[no-untyped-def]
    import torch

    class TinyWenetCtc(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            # WeNet's Conv2dSubsampling4: two 3x3 stride-2 convolutions, then a projection.
            self.conv = torch.nn.Sequential(
                torch.nn.Conv2d(1, width, 3, 2),
                torch.nn.ReLU(),
                torch.nn.Conv2d(width, width, 3, 2),
                torch.nn.ReLU(),
            )
            self.embed = torch.nn.Linear(width * (((80 - 1) // 2 - 1) // 2), width)
            self.encoder = torch.nn.Sequential(*[_block(width) for _ in range(layers)])
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
            h = self.conv(x.unsqueeze(1))  # (N, C, T', 19)
            n, c, t, f = h.shape
            h = self.encoder(self.embed(h.transpose(1, 2).reshape(n, t, c * f)))
            logits = self.ctc_lo(h) + self.script[:t].unsqueeze(0)
            lens = torch.div(
                torch.div(x_lens - 1, 2, rounding_mode="floor") - 1, 2, rounding_mode="floor"
            )
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
            opset_version=17,
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
