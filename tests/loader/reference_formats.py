#!/usr/bin/env python3
"""Files written by the reference writers (the `gguf` and `safetensors` Python packages) load in cace.

Writes a tiny Llama model twice -- as GGUF through gguf.GGUFWriter with matrices in F32, F16, BF16,
Q8_0, Q4_0, Q4_1 (quantized by gguf.quants.quantize) and Q4_K, Q6_K (random valid blocks), and as a
Hugging Face folder through safetensors.numpy.save_file -- then has cace_dump_model load each into a
host arena and dump every tensor dequantized to f32, and compares with gguf.quants.dequantize / numpy.

usage: reference_formats.py CACE_DUMP_MODEL WORK_DIR
Exits 77 (CTest's SKIP_RETURN_CODE) with a message when the packages cannot be had.
"""
import json
import os
import subprocess
import sys

SKIP = 77


def ensure_packages():
    try:
        import gguf, numpy, safetensors  # noqa: F401
        return True
    except ImportError:
        pass
    print("reference_formats: installing gguf numpy safetensors with pip ...", flush=True)
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "gguf", "numpy", "safetensors"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        print(r.stdout[-2000:])
        return False
    try:
        import gguf, numpy, safetensors  # noqa: F401
        return True
    except ImportError:
        return False


HIDDEN, INTER, LAYERS, HEADS, KV_HEADS, VOCAB = 256, 512, 2, 4, 2, 300
HEAD_DIM = HIDDEN // HEADS


def hf_shapes():
    q, kv = HEADS * HEAD_DIM, KV_HEADS * HEAD_DIM
    shapes = {"model.embed_tokens.weight": (VOCAB, HIDDEN)}
    for i in range(LAYERS):
        p = f"model.layers.{i}."
        shapes.update({p + "input_layernorm.weight": (HIDDEN,), p + "self_attn.q_proj.weight": (q, HIDDEN),
                       p + "self_attn.k_proj.weight": (kv, HIDDEN), p + "self_attn.v_proj.weight": (kv, HIDDEN),
                       p + "self_attn.o_proj.weight": (HIDDEN, q), p + "post_attention_layernorm.weight": (HIDDEN,),
                       p + "mlp.gate_proj.weight": (INTER, HIDDEN), p + "mlp.up_proj.weight": (INTER, HIDDEN),
                       p + "mlp.down_proj.weight": (HIDDEN, INTER)})
    shapes["model.norm.weight"] = (HIDDEN,)
    shapes["lm_head.weight"] = (VOCAB, HIDDEN)
    return shapes


GGUF_NAME = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
             "lm_head.weight": "output.weight", "input_layernorm.weight": "attn_norm.weight",
             "self_attn.q_proj.weight": "attn_q.weight", "self_attn.k_proj.weight": "attn_k.weight",
             "self_attn.v_proj.weight": "attn_v.weight", "self_attn.o_proj.weight": "attn_output.weight",
             "post_attention_layernorm.weight": "ffn_norm.weight", "mlp.gate_proj.weight": "ffn_gate.weight",
             "mlp.up_proj.weight": "ffn_up.weight", "mlp.down_proj.weight": "ffn_down.weight"}


def gguf_name(hf):
    if hf in GGUF_NAME:
        return GGUF_NAME[hf]
    _, _, layer, rest = hf.split(".", 3)
    return f"blk.{layer}.{GGUF_NAME[rest]}"


def random_k_blocks(rng, np, qtype, rows, cols):
    """Random bytes made valid: the f16 scales finite and small (Q4_K: d, dmin first; Q6_K: d last)."""
    from gguf.constants import GGML_QUANT_SIZES
    block, size = GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, size=(rows, cols // block, size), dtype=np.uint8)
    scales = (rng.random((rows, cols // block, 2)) * 0.01).astype(np.float16).view(np.uint8)
    if size == 144:  # Q4_K
        raw[..., 0:4] = scales.reshape(rows, cols // block, 4)
    else:  # Q6_K
        raw[..., 208:210] = scales[..., 0:2]
    return raw.reshape(rows, (cols // block) * size)


def run_dump(tool, model, out):
    r = subprocess.run([tool, model, out], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print(r.stdout.strip())
    if r.returncode != 0:
        raise SystemExit(f"cace_dump_model failed on {model}")
    listing = {}
    with open(os.path.join(out, "tensors.txt")) as f:
        for line in f:
            name, dtype, shape = line.split()
            listing[name] = (dtype, tuple(int(d) for d in shape.split(",")))
    return listing


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    tool, work = sys.argv[1], sys.argv[2]
    if not ensure_packages():
        print("SKIP: the Python packages gguf, numpy and safetensors are not installed and pip could not "
              "install them; reference-format check not run")
        return SKIP
    import numpy as np
    import gguf
    from gguf import GGMLQuantizationType as Q
    from gguf import quants
    from safetensors.numpy import save_file

    os.makedirs(work, exist_ok=True)
    rng = np.random.default_rng(7)
    weights = {n: (rng.standard_normal(s) * 0.05 + (1.0 if "norm" in n else 0.0)).astype(np.float32)
               for n, s in hf_shapes().items()}
    failures = []

    # GGUF through the reference writer, one quantization type per kind of matrix.
    types = {"token_embd": Q.Q8_0, "attn_q": Q.Q4_0, "attn_k": Q.Q4_1, "attn_v": Q.F16, "attn_output": Q.BF16,
             "ffn_gate": Q.Q4_K, "ffn_up": Q.Q6_K, "ffn_down": Q.Q8_0, "output": Q.F32}
    gguf_path = os.path.join(work, "reference.gguf")
    w = gguf.GGUFWriter(gguf_path, "llama")
    w.add_context_length(512)
    w.add_embedding_length(HIDDEN)
    w.add_feed_forward_length(INTER)
    w.add_block_count(LAYERS)
    w.add_head_count(HEADS)
    w.add_head_count_kv(KV_HEADS)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_freq_base(10000.0)
    w.add_vocab_size(VOCAB)
    w.add_tokenizer_model("gpt2")
    w.add_token_list([f"t{i}" for i in range(VOCAB)])
    w.add_array("cace.test.nested", [[1, 2], [3]])
    expected = {}
    for hf, value in weights.items():
        name = gguf_name(hf)
        kind = name.split(".")[-2]
        qtype = types.get(kind, Q.F32) if value.ndim == 2 else Q.F32
        if qtype in (Q.Q4_K, Q.Q6_K):
            data = random_k_blocks(rng, np, qtype, *value.shape)
        elif qtype == Q.F32:
            data = value
        else:
            data = quants.quantize(value, qtype)
        w.add_tensor(name, data, raw_dtype=None if qtype == Q.F32 else qtype)
        expected[name] = (qtype.name, value.shape,
                          data if qtype == Q.F32 else quants.dequantize(data, qtype).reshape(value.shape))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    listing = run_dump(tool, gguf_path, os.path.join(work, "gguf_dump"))
    for name, (qname, shape, want) in expected.items():
        dtype, got_shape = listing.get(name, (None, None))
        got = np.fromfile(os.path.join(work, "gguf_dump", name + ".f32"), dtype=np.float32).reshape(shape)
        if dtype != qname or got_shape != shape or not np.allclose(got, want, rtol=1e-6, atol=1e-7):
            failures.append(f"GGUF {name}: cace read {dtype} {got_shape}, reference {qname} {shape}; "
                            f"max |diff| {np.max(np.abs(got - want)) if got.shape == want.shape else 'n/a'}")
    print(f"GGUF: {len(expected)} tensors in {sorted(set(q for q, _, _ in expected.values()))} compared")

    # safetensors through the reference writer (F32 and BF16-free F16 mix) with a config.json.
    st_dir = os.path.join(work, "hf")
    os.makedirs(st_dir, exist_ok=True)
    st = {n: (v.astype(np.float16) if "mlp" in n else v) for n, v in weights.items()}
    save_file(st, os.path.join(st_dir, "model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(st_dir, "config.json"), "w") as f:
        json.dump({"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": HIDDEN,
                   "intermediate_size": INTER, "num_hidden_layers": LAYERS, "num_attention_heads": HEADS,
                   "num_key_value_heads": KV_HEADS, "rms_norm_eps": 1e-5, "vocab_size": VOCAB,
                   "max_position_embeddings": 512, "tie_word_embeddings": False}, f)
    listing = run_dump(tool, st_dir, os.path.join(work, "st_dump"))
    for name, value in st.items():
        dtype, shape = listing.get(name, (None, None))
        got = np.fromfile(os.path.join(work, "st_dump", name + ".f32"), dtype=np.float32).reshape(value.shape)
        want_dtype = "F16" if value.dtype == np.float16 else "F32"
        if dtype != want_dtype or shape != value.shape or not np.array_equal(got, value.astype(np.float32)):
            failures.append(f"safetensors {name}: cace read {dtype} {shape}, reference {want_dtype} {value.shape}")
    print(f"safetensors: {len(st)} tensors compared")

    if failures:
        print("\n".join(failures))
        return 1
    print("reference formats: every tensor cace loaded equals the reference packages' values")
    return 0


if __name__ == "__main__":
    sys.exit(main())
