#!/usr/bin/env python3
"""Reference logits and greedy tokens from Hugging Face transformers (PyTorch, F32, CPU).

Loads a model directory (config.json + model.safetensors) or a GGUF file in it, runs one prompt,
and writes what the C++ side compares against (runtime_reference_compare):
  int32 T, int32 V, float32 logits[T][V]   logits after each prompt token
  int32 G, int32 tokens[G]                 greedy continuation (no stop token)
  int32 P, int32 prompt[P]                 the prompt token ids
The prompt is given as ids (--tokens) or as text tokenized with the model's tokenizer (--text).
"""
import argparse
import struct
import sys

import numpy as np
import torch
import transformers


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--gguf", help="GGUF file name inside --model-dir")
    ap.add_argument("--tokens", help="comma-separated prompt ids")
    ap.add_argument("--text", help="prompt text, tokenized by the model's tokenizer")
    ap.add_argument("--generate", type=int, default=32)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    torch.manual_seed(0)
    kwargs = {"dtype": torch.float32}
    if args.gguf:
        kwargs["gguf_file"] = args.gguf
    model = transformers.AutoModelForCausalLM.from_pretrained(
        args.model_dir, attn_implementation="eager", **kwargs)
    model.eval()

    if args.text is not None:
        tok_kwargs = {"gguf_file": args.gguf} if args.gguf else {}
        tokenizer = transformers.AutoTokenizer.from_pretrained(args.model_dir, **tok_kwargs)
        prompt = tokenizer(args.text, add_special_tokens=False)["input_ids"]
    else:
        tokenizer = None
        prompt = [int(t) for t in args.tokens.split(",")]

    ids = torch.tensor([prompt], dtype=torch.long)
    with torch.no_grad():
        logits = model(ids).logits[0].to(torch.float32).numpy()
        generated = []
        context = list(prompt)
        # Greedy by full recomputation each step: no sampling, no stop token, no cache subtleties.
        for _ in range(args.generate):
            step = model(torch.tensor([context], dtype=torch.long)).logits[0, -1]
            token = int(torch.argmax(step))
            generated.append(token)
            context.append(token)

    with open(args.out, "wb") as f:
        f.write(struct.pack("<ii", logits.shape[0], logits.shape[1]))
        f.write(np.ascontiguousarray(logits, dtype="<f4").tobytes())
        f.write(struct.pack("<i", len(generated)))
        f.write(np.asarray(generated, dtype="<i4").tobytes())
        f.write(struct.pack("<i", len(prompt)))
        f.write(np.asarray(prompt, dtype="<i4").tobytes())
    print(f"hf_reference: transformers {transformers.__version__}, torch {torch.__version__}; "
          f"prompt {len(prompt)} tokens, vocab {logits.shape[1]}, greedy {generated[:8]}...")
    if tokenizer is not None:
        print("hf_reference: greedy text:", repr(tokenizer.decode(generated)))


if __name__ == "__main__":
    sys.exit(main())
