#!/usr/bin/env python3
"""cace_server end to end, with clients nobody here wrote: curl and the official `openai` package.

Three servers, each from its own config file:
  pool   two tiny models (cace_make_tiny_model) in a memory budget that holds one: curl and the
         openai client on completions (with `suffix`), chat, streaming of both with usage, the
         error statuses, /v1/models, /health, /metrics (the names and labels the Gateway API
         Inference Extension reads), /api/ps and the model controls, a client that disconnects,
         and 16 concurrent clients over both models, every request answered;
  guard  an API key, a small body limit, a queue of one and a short deadline: 401, 413, 429, 504;
  smol   SmolLM2-135M-Instruct (when CACE_SMOLLM2_GGUF is set): completion, chat with the model's
         own template, streamed, with usage; fill-in-the-middle refused (its vocabulary has no FIM
         tokens; the tiny models' have, and serve it above).
Run through with_venv.sh (which provides the openai package and SmolLM2).
"""
import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import openai

FAILURES = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        FAILURES.append(what)


class Server:
    def __init__(self, binary, config, work, name):
        path = os.path.join(work, name + ".json")
        with open(path, "w") as f:
            json.dump(config, f)
        self.log = open(os.path.join(work, name + ".log"), "w")
        self.proc = subprocess.Popen([binary, "--config", path, "--port", "0"], stdout=subprocess.PIPE,
                                     stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        match = re.match(r"listening on (\S+):(\d+)", line)
        if not match:
            self.proc.kill()
            raise RuntimeError(f"{name} did not start: {line!r}; see {self.log.name}")
        self.base = f"http://127.0.0.1:{match.group(2)}"

    def stop(self):
        self.proc.terminate()
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None


def http(base, method, path, body=None, headers=None, raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def curl(*args):
    proc = subprocess.run(["curl", "-sS", "--max-time", "120", *args], capture_output=True, text=True)
    return proc.stdout


def error_code(text):
    try:
        return json.loads(text)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def make_tiny(make_tiny_model, work, name, arch, seed, *size):
    out = os.path.join(work, name)
    subprocess.run([make_tiny_model, "--out", out, "--arch", arch, "--seed", str(seed), *size], check=True,
                   capture_output=True)
    return out


def pool_tests(args, work):
    a = make_tiny(args.make_tiny_model, work, "tiny-a", "llama", 1)
    b = make_tiny(args.make_tiny_model, work, "tiny-b", "qwen2", 2)
    sizes = [os.path.getsize(os.path.join(m, "model.safetensors")) for m in (a, b)]
    budget = max(sizes) + min(sizes) // 2  # room for one model and its KV caches, not two
    template = os.path.join(args.templates, "qwen2_5_chatml.jinja")
    config = {
        "limits": {"max_tokens": 400, "default_max_tokens": 8, "request_deadline_s": 120},
        "engine": {"memory_budget_bytes": budget, "policy": "cace", "compute_threads": 1},
        "models": [{"id": "tiny-a", "path": a, "chat_template_file": template},
                   {"id": "tiny-b", "path": b, "chat_template_file": template}],
    }
    server = Server(args.server, config, work, "pool")
    base = server.base
    client = openai.OpenAI(base_url=base + "/v1", api_key="unused", max_retries=0)
    try:
        # curl: the plain endpoints.
        check(json.loads(curl(base + "/health")).get("status") == "ok", "curl /health")
        ids = [m["id"] for m in json.loads(curl(base + "/v1/models"))["data"]]
        check(ids == ["tiny-a", "tiny-b"], f"curl /v1/models lists the configured ids: {ids}")
        whole = json.loads(curl(base + "/v1/completions", "-H", "Content-Type: application/json", "-d",
                                json.dumps({"model": "tiny-a", "prompt": "def f(x):", "max_tokens": 5})))
        check(whole["object"] == "text_completion" and whole["usage"]["completion_tokens"] >= 1 and
              whole["choices"][0]["finish_reason"] in ("stop", "length"), "curl completion: OpenAI's shape, usage")
        streamed = curl("-N", base + "/v1/completions", "-H", "Content-Type: application/json", "-d",
                        json.dumps({"model": "tiny-a", "prompt": "x =", "max_tokens": 6, "stream": True,
                                    "stream_options": {"include_usage": True}}))
        events = [e for e in streamed.split("\n\n") if e]
        check(all(e.startswith("data: ") for e in events) and events[-1] == "data: [DONE]",
              f"curl stream: server-sent events ending in [DONE] ({len(events)} events)")
        chunks = [json.loads(e[6:]) for e in events[:-1]]
        check(chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] >= 1 and
              chunks[-2]["choices"][0]["finish_reason"] in ("stop", "length"),
              "curl stream: a finish_reason chunk, then the usage chunk")

        # The openai client.
        completion = client.completions.create(model="tiny-a", prompt="def add(a, b):", max_tokens=6, temperature=0)
        check(completion.usage.prompt_tokens > 0 and completion.choices[0].text is not None,
              f"openai completion: {completion.choices[0].text!r}, usage {completion.usage.total_tokens}")
        fim = client.completions.create(model="tiny-b", prompt="def add(a, b):\n    ", suffix="\n    return c",
                                        max_tokens=6)
        check(fim.usage.prompt_tokens > 0, f"openai fill-in-the-middle (suffix): {fim.choices[0].text!r}")
        chat = client.chat.completions.create(model="tiny-a", messages=[{"role": "user", "content": "hi"}],
                                              max_tokens=6)
        check(chat.choices[0].message.role == "assistant" and chat.usage.completion_tokens >= 1,
              f"openai chat: {chat.choices[0].message.content!r}")
        pieces, usage, roles = [], None, set()
        for chunk in client.chat.completions.create(model="tiny-a", messages=[{"role": "user", "content": "hi"}],
                                                    max_tokens=6, stream=True,
                                                    stream_options={"include_usage": True}):
            if chunk.usage is not None:
                usage = chunk.usage
            for choice in chunk.choices:
                if choice.delta.role:
                    roles.add(choice.delta.role)
                if choice.delta.content:
                    pieces.append(choice.delta.content)
        check(roles == {"assistant"} and usage is not None and usage.completion_tokens >= 1,
              f"openai chat stream: {len(pieces)} deltas, usage {usage.total_tokens if usage else None}")
        pieces = [c.choices[0].text for c in client.completions.create(model="tiny-b", prompt="x", max_tokens=5,
                                                                       stream=True) if c.choices]
        check(len(pieces) >= 1, f"openai completion stream: {len(pieces)} chunks")

        # Errors, as OpenAI's objects with their statuses.
        status, text = http(base, "POST", "/v1/completions", {"model": "nope", "prompt": "x"})
        check(status == 404 and error_code(text) == "model_not_found", f"unknown model: {status}")
        status, text = http(base, "POST", "/v1/completions", raw=b"{not json")
        check(status == 400 and json.loads(text)["error"]["type"] == "invalid_request_error", f"bad JSON: {status}")
        status, text = http(base, "POST", "/v1/completions", {"model": "tiny-a", "prompt": "x", "max_tokens": 401})
        check(status == 400, f"max_tokens above the limit: {status}")
        long_prompt = " ".join(f"w{i}" for i in range(3000))
        status, text = http(base, "POST", "/v1/completions", {"model": "tiny-a", "prompt": long_prompt})
        check(status == 400 and error_code(text) == "context_length_exceeded",
              f"prompt longer than the context: {status} {error_code(text)}")
        status, text = http(base, "POST", "/v1/chat/completions",
                            {"model": "tiny-a", "messages": [{"role": "tool", "content": "x"}]})
        check(status == 400, f"chat with an unknown role: {status}")
        try:
            client.completions.create(model="nope", prompt="x", max_tokens=2)
            check(False, "openai raises NotFoundError for an unknown model")
        except openai.NotFoundError:
            check(True, "openai raises NotFoundError for an unknown model")

        # 16 concurrent clients over two models in a pool that holds one.
        # Answered means the request ended with a finish reason (and, unstreamed, its usage): the
        # tiny models sample at temperature 1, so an end-of-text token may come first and a
        # completion may rightly hold no token.
        def one(i):
            model = "tiny-a" if i % 2 == 0 else "tiny-b"
            if i % 4 < 2:
                r = client.completions.create(model=model, prompt=f"def f{i}(x):", max_tokens=8)
                return r.choices[0].finish_reason in ("stop", "length") and r.usage.prompt_tokens >= 1
            reasons = [c.choices[0].finish_reason for c in client.completions.create(
                model=model, prompt=f"y{i} =", max_tokens=8, stream=True) if c.choices]
            return reasons[-1] in ("stop", "length")

        start = time.time()
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            answered = list(pool.map(lambda i: _safe(one, i), range(16)))
        check(all(answered), f"16 concurrent clients, 2 models, room for 1: {sum(answered)}/16 answered "
                             f"in {time.time() - start:.1f} s")

        metrics = curl(base + "/metrics")
        for name in ("vllm:num_requests_waiting", "vllm:num_requests_running", "vllm:kv_cache_usage_perc"):
            check(re.search(rf"^# TYPE {name} gauge$", metrics, re.M) and
                  re.search(rf'^{name}{{model_name="tiny-a"}} ', metrics, re.M),
                  f"/metrics: {name} gauge with model_name")
        for name in ("vllm:time_to_first_token_seconds", "vllm:e2e_request_latency_seconds"):
            count = re.search(rf'^{name}_count{{model_name="tiny-a"}} (\d+)', metrics, re.M)
            check(re.search(rf"^# TYPE {name} histogram$", metrics, re.M) and count and int(count.group(1)) > 0,
                  f"/metrics: {name} histogram with model_name")
        lora = re.search(r'^vllm:lora_requests_info{max_lora="(\d+)",running_lora_adapters="([^"]*)",'
                         r'waiting_lora_adapters="([^"]*)"} (\S+)$', metrics, re.M)
        check(lora is not None and int(lora.group(1)) >= 1 and float(lora.group(4)) > 1e9,
              f"/metrics: vllm:lora_requests_info with max_lora, running and waiting adapters "
              f"({lora.groups() if lora else None})")
        evictions = sum(int(float(v)) for v in re.findall(r'^cace_model_evictions_total{[^}]*} (\S+)', metrics, re.M))
        check(evictions >= 1, f"/metrics: cace's own, evictions in the pool that holds one: {evictions}")

        # A client that disconnects cancels its request.
        cancelled_before = _cancelled(metrics)
        # Greedy, so that the 400 tokens asked for come every run (no early end of text).
        stream = client.completions.create(model="tiny-a", prompt="z", max_tokens=400, temperature=0, stream=True)
        next(iter(stream))
        stream.close()
        deadline = time.time() + 20
        while time.time() < deadline and _cancelled(curl(base + "/metrics")) <= cancelled_before:
            time.sleep(0.1)
        check(_cancelled(curl(base + "/metrics")) > cancelled_before, "a client that disconnects cancels its request")

        # The residency listing and the controls.
        status, _ = http(base, "POST", "/api/generate", {"model": "tiny-b"})
        check(status == 200, f"/api/generate with no prompt preloads: {status}")
        deadline = time.time() + 20
        names = []
        while time.time() < deadline:
            names = [m["name"] for m in json.loads(curl(base + "/api/ps"))["models"] if m["state"] == "resident"]
            if "tiny-b" in names:
                break
            time.sleep(0.05)
        check("tiny-b" in names, f"/api/ps lists the preloaded model: {names}")
        status, _ = http(base, "POST", "/api/pin", {"model": "tiny-b"})
        pinned = [m for m in json.loads(curl(base + "/api/ps"))["models"] if m["name"] == "tiny-b"]
        check(status == 200 and pinned and pinned[0]["pinned"], "/api/pin pins")
        status, text = http(base, "POST", "/api/unload", {"model": "tiny-b"})
        check(status == 409, f"/api/unload of a pinned model is refused: {status}")
        http(base, "POST", "/api/unpin", {"model": "tiny-b"})
        status, _ = http(base, "POST", "/api/generate", {"model": "tiny-b", "keep_alive": 0})
        deadline = time.time() + 20
        while time.time() < deadline and any(m["name"] == "tiny-b" for m in json.loads(curl(base + "/api/ps"))["models"]):
            time.sleep(0.05)
        check(status == 200 and not any(m["name"] == "tiny-b" for m in json.loads(curl(base + "/api/ps"))["models"]),
              "keep_alive 0 unloads")
        status, text = http(base, "POST", "/v1/completions", {"model": "tiny-a", "prompt": "x", "keep_alive": "soon"})
        check(status == 400, f"a bad keep_alive is refused: {status}")
    finally:
        check(server.stop() == 0, "pool server stops on SIGTERM")


def _safe(function, *args):
    try:
        return function(*args)
    except Exception as e:  # an unanswered request is a failure, counted
        print(f"     request failed: {e!r}")
        return False


def _cancelled(metrics):
    """Requests that ended without success (the engine counts a cancelled one among them)."""
    return sum(int(float(v)) for v in re.findall(r'^cace_requests_total{[^}]*status="error"[^}]*} (\S+)',
                                               metrics, re.M))


def guard_tests(args, work):
    # Larger than the pool's, so that 400 tokens take longer than the deadline (greedy: the same
    # tokens every run, none of them the end of text early).
    a = make_tiny(args.make_tiny_model, work, "tiny-guard", "llama", 3, "--hidden", "256", "--intermediate", "512",
                  "--layers", "4")
    config = {
        "api_key": "sekrit",
        "limits": {"max_body_bytes": 2048, "max_tokens": 500, "default_max_tokens": 8, "request_deadline_s": 0.05},
        "engine": {"memory_budget_bytes": 64 << 20, "max_pending_requests": 1, "compute_threads": 1},
        "models": [{"id": "tiny", "path": a}],
    }
    server = Server(args.server, config, work, "guard")
    base = server.base
    key = {"Authorization": "Bearer sekrit"}
    try:
        status, text = http(base, "GET", "/v1/models")
        check(status == 401 and error_code(text) == "invalid_api_key", f"no API key: {status}")
        status, _ = http(base, "GET", "/v1/models", headers={"Authorization": "Bearer wrong"})
        check(status == 401, f"a wrong API key: {status}")
        status, _ = http(base, "GET", "/v1/models", headers=key)
        check(status == 200, f"the right API key: {status}")
        status, _ = http(base, "GET", "/health")
        check(status == 200, "/health needs no key")
        status, _ = http(base, "POST", "/v1/completions", {"model": "tiny", "prompt": "x" * 4096}, headers=key)
        check(status == 413, f"a body over the limit: {status}")
        status, text = http(base, "POST", "/v1/completions",
                            {"model": "tiny", "prompt": "x", "max_tokens": 400, "temperature": 0}, headers=key)
        check(status == 504 and error_code(text) == "deadline_exceeded", f"past the deadline: {status}")
        # A queue of one: of several at once, some are refused with 429, each answered.
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            statuses = list(pool.map(lambda i: http(base, "POST", "/v1/completions",
                                                    {"model": "tiny", "prompt": f"q{i}", "max_tokens": 400},
                                                    headers=key)[0], range(6)))
        check(statuses.count(429) >= 1 and set(statuses) <= {200, 429, 504}, f"queue full: {statuses}")
        client = openai.OpenAI(base_url=base + "/v1", api_key="sekrit", max_retries=0)
        try:
            openai.OpenAI(base_url=base + "/v1", api_key="wrong", max_retries=0).models.list()
            check(False, "openai raises AuthenticationError for a wrong key")
        except openai.AuthenticationError:
            check(True, "openai raises AuthenticationError for a wrong key")
        check([m.id for m in client.models.list()] == ["tiny"], "openai lists models with the key")
    finally:
        server.stop()


def smol_tests(args, work):
    gguf = os.environ.get("CACE_SMOLLM2_GGUF")
    if not gguf:
        print("skip SmolLM2: CACE_SMOLLM2_GGUF not set")
        return
    config = {"limits": {"max_tokens": 64, "default_max_tokens": 16}, "engine": {"memory_budget_bytes": 1 << 30},
              "models": [{"id": "smollm2", "path": gguf}]}
    server = Server(args.server, config, work, "smol")
    client = openai.OpenAI(base_url=server.base + "/v1", api_key="unused", max_retries=0)
    # The question is one whose greedy answer is not a near tie: in transformers' F32 forward pass of
    # this GGUF, the smallest gap between the two best logits along the answer is 0.73 (of logits
    # near 25), above the int8 activations' worst logit error (1.2 % of the largest logit, measured by
    # runtime_reference.smollm2_135m_gguf_vs_transformers). "What is the capital of France?" is not:
    # its first token is "The" by 0.08 over "L", and with int8 activations cace answers
    # "L'Étoile, la Marseillaise," instead.
    question = [{"role": "user", "content": "Name the capital city of France."}]
    try:
        chat = client.chat.completions.create(
            model="smollm2", messages=question,
            max_tokens=12, temperature=0)
        answer = chat.choices[0].message.content
        check("Paris" in answer, f"SmolLM2 chat through its own template: {answer!r}")
        deltas = [c.choices[0].delta.content or "" for c in client.chat.completions.create(
            model="smollm2", messages=question, max_tokens=12, temperature=0, stream=True) if c.choices]
        check("".join(deltas) == answer, "SmolLM2 streamed chat gives the same text, greedy")
        code = client.completions.create(model="smollm2", prompt="def fibonacci(n):", max_tokens=16, temperature=0)
        check(len(code.choices[0].text) > 0 and code.usage.completion_tokens > 0,
              f"SmolLM2 completion: {code.choices[0].text!r}")
        # SmolLM2's vocabulary has no FIM tokens: a request with a suffix is refused, saying why.
        try:
            client.completions.create(model="smollm2", prompt="def add(a, b):\n    return ", suffix="\n",
                                      max_tokens=8)
            check(False, "SmolLM2 fill-in-the-middle is refused (no FIM tokens)")
        except openai.BadRequestError as e:
            check("fill-in-the-middle" in str(e), f"SmolLM2 fill-in-the-middle is refused: {e.message}")
    finally:
        server.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--make-tiny-model", required=True)
    parser.add_argument("--templates", required=True)
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    args.templates = os.path.abspath(args.templates)
    os.makedirs(args.work, exist_ok=True)
    start = time.time()
    pool_tests(args, args.work)
    guard_tests(args, args.work)
    smol_tests(args, args.work)
    print(f"{len(FAILURES)} failures, {time.time() - start:.1f} s")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
