#!/usr/bin/env python3
"""cace's chat templates against Python's jinja2 rendering the same template text.

For each template (SmolLM2-135M-Instruct's, read from its GGUF with the `gguf` package, and the
family templates of tests/server/templates), a set of conversations is rendered by jinja2 (as
transformers' apply_chat_template does: trim_blocks, lstrip_blocks, raise_exception) and by cace
(render_chat, the C++ side); the texts must be equal, and where jinja2 raises, cace must refuse too.
unknown.jinja must be refused by cace. Run through with_venv.sh.
"""
import json
import os
import subprocess
import sys

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))

CONVERSATIONS = [
    ([{"role": "user", "content": "Write a function that reverses a list."}], True),
    ([{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hi"}], True),
    ([{"role": "user", "content": "  padded\n"}, {"role": "assistant", "content": " def f(): pass "},
      {"role": "user", "content": "again, with ünïcödé and\ttabs"}], True),
    ([{"role": "system", "content": "S"}, {"role": "user", "content": "Q"},
      {"role": "assistant", "content": "A"}], False),
    ([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}], True),  # Llama-2 raises
    ([{"role": "user", "content": ""}], True),
]


class TemplateError(Exception):
    pass


def raise_exception(message):
    raise TemplateError(message)


def jinja_render(template_text, bos, eos, messages, add_generation_prompt):
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = raise_exception
    try:
        return env.from_string(template_text).render(
            messages=messages, add_generation_prompt=add_generation_prompt, bos_token=bos, eos_token=eos)
    except TemplateError as e:
        return {"error": str(e)}


def cace_render(cli, request):
    proc = subprocess.run([cli], input=json.dumps(request), capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


def check(cli, name, template_text, bos, eos, cace_request):
    cace_request["conversations"] = [{"messages": m, "add_generation_prompt": g} for m, g in CONVERSATIONS]
    got = cace_render(cli, cace_request)
    if "error" in got:
        print(f"FAIL {name}: cace refused the template: {got['error']}")
        return 1
    failures = 0
    for (messages, gen), mine in zip(CONVERSATIONS, got["renders"]):
        want = jinja_render(template_text, bos, eos, messages, gen)
        if isinstance(want, dict) != isinstance(mine, dict) or (not isinstance(want, dict) and want != mine):
            print(f"FAIL {name} ({got['family']}): {messages}\n  jinja2: {want!r}\n  cace:   {mine!r}")
            failures += 1
    print(f"{'ok' if not failures else 'FAIL'} {name}: family {got['family']}, {len(CONVERSATIONS)} conversations")
    return failures


def main():
    cli = sys.argv[1]
    failures = 0
    import gguf
    path = os.environ["CACE_SMOLLM2_GGUF"]
    reader = gguf.GGUFReader(path)

    def field_text(key):
        f = reader.fields[key]
        return bytes(f.parts[f.data[0]]).decode("utf-8")

    tokens = reader.fields["tokenizer.ggml.tokens"]

    def token_text(key):
        index = int(reader.fields[key].parts[reader.fields[key].data[0]][0])
        return bytes(tokens.parts[tokens.data[index]]).decode("utf-8")

    smol = field_text("tokenizer.chat_template")
    failures += check(cli, "SmolLM2-135M-Instruct (GGUF)", smol, token_text("tokenizer.ggml.bos_token_id"),
                      token_text("tokenizer.ggml.eos_token_id"), {"model": path})

    specials = {"qwen2_5_chatml": ("", "<|im_end|>"), "llama2": ("<s>", "</s>"),
                "llama3": ("<|begin_of_text|>", "<|eot_id|>"),
                "deepseek_coder": ("<｜begin▁of▁sentence｜>", "<|EOT|>")}
    for name, (bos, eos) in specials.items():
        with open(os.path.join(HERE, "templates", name + ".jinja"), encoding="utf-8") as f:
            text = f.read().rstrip("\n")
        failures += check(cli, name, text, bos, eos, {"template": text, "bos": bos, "eos": eos})

    with open(os.path.join(HERE, "templates", "unknown.jinja"), encoding="utf-8") as f:
        unknown = cace_render(cli, {"template": f.read(), "conversations": []})
    if "error" not in unknown:
        print("FAIL unknown.jinja was not refused")
        failures += 1
    else:
        print(f"ok unknown.jinja refused: {unknown['error']}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
