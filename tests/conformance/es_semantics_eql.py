"""Elasticsearch semantics for Elastic's `eql` Python engine (PyPI `eql`), for the EQL oracles.

In Elasticsearch syntax mode the `eql` package parses every operator but evaluates them all
case-insensitively (`==`, `in`, `:`, `like`, `regex` alike), reads `regex` as a Python prefix
match and gives `?` no meaning in wildcards. Importing this module changes that, so the
verdicts are Elasticsearch's, as documented in
https://www.elastic.co/docs/reference/query-languages/eql/eql-syntax:

- `==`, `!=` and `in` are case-sensitive; `in~` folds case;
- `:` and `like~` are case-insensitive wildcard matches on the whole value, `like` is the
  case-sensitive one; `*` is any run of characters and `?` one character, and nothing
  escapes them (a backslash is literal: Elasticsearch's `toLikePattern` uses U+0001 as the
  escape);
- `regex` and `regex~` are Lucene regular expressions matching the whole value. `~` folds
  case as Elasticsearch's `case_insensitive` automaton does up to 9.4: ASCII letters only,
  for single characters; a range such as `[a-c]` stays case-sensitive (apache/lucene#14378).

Folding is ASCII-only everywhere: that is what Elasticsearch does for `case_insensitive`
queries (AutomatonQueries.toCaseInsensitiveChar, "only ASCII"), and aisigma's default case
contract. Lucene regex constructs outside the subset aisigma writes (`@ & ~ < > #` and quoted
strings) raise, so the oracle fails rather than guessing.
"""
import re

import eql
import eql.ast as ast
import eql.functions
import eql.utils
from eql.functions import FunctionSignature, get_function, register
from eql.parser import LarkToEQL
from eql.types import TypeHint
from eql.utils import is_string

# Every string comparison the engine does itself (`==`, `!=`, `in`) is case-sensitive.
eql.utils.CASE_INSENSITIVE = False


def _register(cls):
    # `eql` imports every top-level module named `eql_*` as a plugin (tests/conformance's
    # oracles among them), so this module can be loaded twice: once as `__main__`.
    if get_function(cls.name) is None:
        register(cls)
    return cls


def ascii_lower(s):
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in s)


def wildcard_regex(pattern, fold):
    """A Python regex for an Elasticsearch wildcard (`*` any run, `?` one character)."""
    out = []
    for c in pattern:
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif fold and c.isascii() and c.isalpha():
            out.append(f"[{c.lower()}{c.upper()}]")
        else:
            out.append(re.escape(c))
    return "".join(out)


_CLASSES = {"s": " \\t\\n\\r", "d": "0-9", "w": "0-9A-Za-z_"}


def _letter(c, fold):
    if fold and c.isascii() and c.isalpha():
        return f"[{c.lower()}{c.upper()}]"
    return re.escape(c)


def lucene_regex(pattern, fold):
    """A Python regex (for `fullmatch`, DOTALL) with the meaning of a Lucene regex."""
    out, i, n = [], 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                raise ValueError(f"dangling backslash in {pattern!r}")
            e = pattern[i + 1]
            i += 2
            if e.lower() in _CLASSES:
                neg = "^" if e.isupper() else ""
                out.append(f"[{neg}{_CLASSES[e.lower()]}]")
            else:
                out.append(_letter(e, fold))
        elif c == "[":
            j = i + 1
            body = []
            neg = ""
            if j < n and pattern[j] == "^":
                neg, j = "^", j + 1
            while j < n and pattern[j] != "]":
                if pattern[j] == "\\":
                    e = pattern[j + 1]
                    j += 2
                    if e.lower() in _CLASSES and not e.isupper():
                        body.append(_CLASSES[e.lower()])
                        continue
                    if e.lower() in _CLASSES:
                        raise ValueError(f"negated class escape in a class in {pattern!r}")
                    lo = e
                else:
                    lo = pattern[j]
                    j += 1
                if j + 1 < n and pattern[j] == "-" and pattern[j + 1] != "]":
                    hi = pattern[j + 1]
                    j += 2
                    if hi == "\\":
                        hi = pattern[j]
                        j += 1
                    # Ranges keep their case under `~` (apache/lucene#14378).
                    body.append(f"{re.escape(lo)}-{re.escape(hi)}")
                elif fold and lo.isascii() and lo.isalpha():
                    body.append(lo.lower() + lo.upper())
                else:
                    body.append(re.escape(lo))
            if j >= n:
                raise ValueError(f"unclosed class in {pattern!r}")
            out.append(f"[{neg}{''.join(body)}]")
            i = j + 1
        elif c in "().|*+?":
            out.append(c)
            i += 1
        elif c == "{":
            j = pattern.index("}", i)
            out.append(pattern[i : j + 1])
            i = j + 1
        elif c in "@&~<>#\"":
            raise ValueError(f"Lucene operator {c!r} is outside this oracle's subset: {pattern!r}")
        else:
            out.append(_letter(c, fold))
            i += 1
    return "".join(out)


def _strings(args):
    return [a.value for a in args]


class _Es(FunctionSignature):
    argument_types = [TypeHint.String, TypeHint.String.require_literal()]
    return_value = TypeHint.Boolean
    additional_types = TypeHint.String.require_literal()
    fold = False

    @classmethod
    def compile(cls, patterns):
        raise NotImplementedError

    @classmethod
    def get_callback(cls, source_ast, *literals):
        compiled = cls.compile(_strings(literals))

        def callback(source, *_):
            if is_string(source):
                return compiled(source)
            return None

        return callback

    @classmethod
    def run(cls, source, *patterns):
        if is_string(source):
            return cls.compile(list(patterns))(source)
        return None


def _regex_matcher(regexes):
    compiled = re.compile("|".join(f"(?:{r})" for r in regexes), re.DOTALL)
    return lambda s: compiled.fullmatch(s) is not None


@_register
class EsLike(_Es):
    name = "esLike"

    @classmethod
    def compile(cls, patterns):
        return _regex_matcher([wildcard_regex(p, cls.fold) for p in patterns])


@_register
class EsLikeFold(EsLike):
    name = "esLikeFold"
    fold = True


@_register
class EsRegex(_Es):
    name = "esRegex"

    @classmethod
    def compile(cls, patterns):
        return _regex_matcher([lucene_regex(p, cls.fold) for p in patterns])


@_register
class EsRegexFold(EsRegex):
    name = "esRegexFold"
    fold = True


@_register
class EsInFold(_Es):
    name = "esInFold"

    @classmethod
    def compile(cls, patterns):
        values = {ascii_lower(p) for p in patterns}
        return lambda s: ascii_lower(s) in values


_PREDICATES = {":": "esLikeFold", "like": "esLike", "like~": "esLikeFold", "regex": "esRegex", "regex~": "esRegexFold"}

_string_predicate = LarkToEQL.string_predicate
_in_set = LarkToEQL.in_set


def string_predicate(self, node):
    info = _string_predicate(self, node)
    info.node = ast.FunctionCall(_PREDICATES[str(node["STRING_PREDICATE"])], info.node.arguments)
    return info


def in_set(self, node):
    info = _in_set(self, node)
    values = info.node.container
    if node.get("IN") == "in~" and all(isinstance(v, ast.String) for v in values):
        info.node = ast.FunctionCall("esInFold", [info.node.expression] + list(values))
    return info


_UNICODE_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\u\{([0-9A-Fa-f]{2,8})\}")


def unicode_escapes(query):
    r"""`\u{XX}` escapes (Elasticsearch's EqlBase.g4 UNICODE_ESCAPE), which `eql` does not
    parse, as the characters themselves (`"` and `\` as their two-character escapes)."""

    def char(m):
        c = chr(int(m.group(2), 16))
        return m.group(1) + {'"': '\\"', "\\": "\\\\"}.get(c, c)

    return _UNICODE_ESCAPE.sub(char, query)


_parse_query = eql.parse_query


def parse_query(query, *args, **kwargs):
    return _parse_query(unicode_escapes(query), *args, **kwargs)


if not getattr(LarkToEQL, "es_semantics", False):  # patch once, see _register
    LarkToEQL.string_predicate = string_predicate
    LarkToEQL.in_set = in_set
    LarkToEQL.es_semantics = True
    eql.parse_query = parse_query


def selftest():
    """The patched engine gives Elasticsearch's verdicts on the documented examples."""
    from eql.parser import elasticsearch_syntax, ignore_missing_fields

    def run(query, value):
        with ignore_missing_fields, elasticsearch_syntax:
            q = eql.parse_query(query)
        engine = eql.PythonEngine()
        hits = []
        engine.add_query(q)
        engine.add_output_hook(hits.append)
        engine.stream_events([eql.Event("any", 0, {"f": value})])
        return bool(hits)

    cases = [
        ('any where f == "Ab"', "ab", False),
        ('any where f == "Ab"', "Ab", True),
        ('any where f in ("Ab", "c")', "ab", False),
        ('any where f in~ ("Ab", "c")', "aB", True),
        ('any where f : "a?c*"', "ABCdef", True),
        ('any where f : "a?c"', "ac", False),
        ('any where f : "a\\\\b"', "A\\b", True),
        ('any where f like "a*"', "Abc", False),
        ('any where f like~ "a*"', "Abc", True),
        ('any where f : "abc"', "abc\n", False),
        ('any where f regex "a.c"', "abc", True),
        ('any where f regex "a.c"', "xabc", False),
        ('any where f regex~ "a\\\\sc"', "A c", True),
        ('any where f regex~ "[a-c]x"', "Bx", False),
        ('any where f regex~ "[abc]x"', "BX", True),
        ('any where f regex~ "k"', "\u212a", False),
        ('any where f regex "a\\\\.b"', "a.b", True),
        ('any where f regex "a\\\\.b"', "axb", False),
        ('any where f regex ("x", "y+")', "yy", True),
        ('any where f == "a\\u{07}\\u{22}\\u{5C}"', 'a\x07"\\', True),
        ('any where f == "a\\\\u{41}"', "a\\u{41}", True),
    ]
    bad = [(q, v, want) for q, v, want in cases if run(q, v) != want]
    for q, v, want in bad:
        print(f"es_semantics_eql selftest: {q} on {v!r} should be {want}")
    return not bad


if __name__ == "__main__":
    import sys

    ok = selftest()
    print("es_semantics_eql selftest:", "ok" if ok else "FAILED")
    sys.exit(0 if ok else 1)
