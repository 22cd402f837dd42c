"""Reading article files (see shared ARTICLE_FORMAT.md) into plain records.

Pure functions: no database, no Slack. ``parse_file`` either returns the file's articles (the
main one first, then its ``related`` entries) or raises :class:`BadFile` with a reason.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import html
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

try:  # the C loader is several times faster; fall back where libyaml is missing
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_RELATED = 500
MAX_URL_CHARS = 2048  # the longest address kept (sitemaps and browsers stop near here too)
MAX_DEPTH = 32  # front matter nested deeper is a bad file (a real one is 5 deep)
# What stored times can be: a moment in years 1-9999 in UTC, a day inside either end so that
# any zone can still show it.
MIN_TIMESTAMP = int(dt.datetime(1, 1, 2, tzinfo=dt.UTC).timestamp())
MAX_TIMESTAMP = int(dt.datetime(9999, 12, 30, tzinfo=dt.UTC).timestamp())

# Query parameters that only track the reader: dropped from the canonical address.
TRACKING_PARAMS = {
    "fbclid",
    "gclid",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "yclid",
    "mc_cid",
    "mc_eid",
    "igshid",
    "_ga",
    "_gl",
    "feedtype",
    "feedname",
    "ocid",
    "cmpid",
    "smid",
    "smtyp",
    "ncid",
    "sr_share",
    "cid",
    "icid",
    "src",
    "ref_src",
    "ref_url",
    "spm",
    "share",
}

KNOWN_FIELDS = {
    "title",
    "webUrl",
    "originalUrl",
    "excerpt",
    "publishedDateTime",
    "category",
    "type",
    "quality",
    "heat",
    "published",
    "provider",
    "topics",
    "images",
    "featuredContent",
    "ampWebUrl",
    "cdnAmpWebUrl",
    "related",
    "secured",
}


class BadFile(Exception):
    """A file that cannot be loaded; ``str()`` is the reason, ``line`` where YAML gives one."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}" if self.line else self.reason


@dataclass
class Article:
    url: str  # canonical
    web_url: str
    title: str
    excerpt: str = ""
    provider: str = ""
    domain: str = ""
    published_ts: int | None = None
    category: str | None = None
    type: str | None = None
    quality: int | None = None
    heat: int | None = None
    topics: list[str] = field(default_factory=list)  # its own labels: evidence for matching
    # A related entry without labels of its own: its parent's own labels. Weaker evidence,
    # never indexed for matching (see bot.core.loader).
    inherited_topics: list[str] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    featured_content: str | None = None
    aliases: list[str] = field(default_factory=list)  # canonical AMP addresses
    extra: dict[str, Any] = field(default_factory=dict)
    related: list[Article] = field(default_factory=list)
    # What the entry was written as, when files share it word for word (a related entry parsed
    # once for every file that lists it: ``parse_text``): a digest of its text and of its
    # inherited labels, so that a loader can tell a mention it has applied already. None: no
    # such key (compare it with the fields).
    key: bytes | None = field(default=None, compare=False, repr=False)

    @property
    def published(self) -> str | None:
        if self.published_ts is None:
            return None
        return (
            dt.datetime.fromtimestamp(self.published_ts, dt.UTC).isoformat().replace("+00:00", "Z")
        )


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, drop the fragment, default port and tracking parameters."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:  # an IPv6 address keeps its brackets
        host = f"[{host}]"
    if parts.port and not (
        (scheme == "http" and parts.port == 80) or (scheme == "https" and parts.port == 443)
    ):
        host = f"{host}:{parts.port}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not (k.lower().startswith("utm_") or k.lower() in TRACKING_PARAMS)
    ]
    return urlunsplit((scheme, host, parts.path or "/", urlencode(query, doseq=True), ""))


def _kind(value: Any) -> str:
    """What a YAML value is, for a reason: 'a list', 'a mapping', 'a time', ..."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dt.date):  # datetime too
        return "a time"
    return f"a {type(value).__name__}"


def _text(data: dict[Any, Any], key: Any, label: str | None = None) -> str:
    """A text field: a string, or a number taken as written; absent or null is ''.

    Anything else (a list, a mapping, a boolean, a time) is a wrong type: a bad file, never
    its Python ``str()`` ("['a', 'b']") stored as the text.
    """
    value = data.get(key)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise BadFile(f"{label or key} is {_kind(value)}, not a string")


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _http_url(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadFile(
            f"{name} is {_kind(value)}, not a string"
            if not isinstance(value, str)
            else f"{name} is not a string"
        )
    value = value.strip()
    if len(value) > MAX_URL_CHARS:
        raise BadFile(
            f"{name} is {len(value):,} characters long, over the {MAX_URL_CHARS:,}-character limit"
        )
    if _CONTROL.search(value):
        raise BadFile(f"{name} holds control characters: {value[:200]!r}")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is no number or out of range
    except ValueError as exc:
        raise BadFile(f"{name} is not a valid URL: {exc}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise BadFile(f"{name} is not an http(s) URL: {value[:200]!r}")
    return value


def parse_timestamp(value: Any) -> int | None:
    """Epoch seconds from a YAML datetime or an ISO 8601 string; no zone means UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.strip().replace("z", "Z"))
        except ValueError:
            raise BadFile(f"publishedDateTime is not an ISO 8601 time: {value[:100]!r}") from None
    else:
        raise BadFile(f"publishedDateTime is {_kind(value)}, not a time: {value!r}"[:200])
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    try:
        ts = int(moment.timestamp())
    except (ValueError, OverflowError):  # pragma: no cover - timestamp() copes with years 1-9999
        ts = MIN_TIMESTAMP - 1
    if not MIN_TIMESTAMP <= ts <= MAX_TIMESTAMP:  # "0001-01-01T00:00:00+05:00" is year 0 in UTC
        raise BadFile(
            f"publishedDateTime is out of range (years 1 to 9999 in UTC): {str(value)[:100]!r}"
        )
    return ts


# HTML mark-up only: a tag name, then attributes. "<!channel>", "<@U1>", "3 < 5 > 2" and
# "<https://x|y>" are text, kept as written (and escaped on the way to Slack).
_TAG = re.compile(r"<!--.*?-->|</?[a-zA-Z][a-zA-Z0-9-]*(?:\s[^<>]{0,500})?/?>", re.DOTALL)


def clean_text(value: Any) -> str:
    """Plain text from a field that may hold HTML entities or mark-up; control characters
    (escape codes, NUL; also when written as entities) become spaces."""
    if value is None:
        return ""
    text = str(value)
    text = _TAG.sub(" ", text)
    text = html.unescape(text)
    text = _CONTROL.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip()


def _int_or_none(data: dict[Any, Any], key: str) -> int | None:
    """An integer field: an integer (or one written as a string); absent or null is None, and
    so is one too large for SQLite. Anything else is a wrong type: a bad file."""
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        written = value
        try:
            value = int(written.strip())
        except ValueError:
            raise BadFile(f"{key} is not an integer: {written[:50]!r}") from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadFile(f"{key} is {_kind(value)}, not an integer")
    if -(2**63) <= value < 2**63:  # what SQLite can store
        return value
    return None


def _json_key(key: Any) -> str:
    """A mapping key as JSON writes it ("1", "true", "null"), or ``str()`` of it (a date)."""
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, int | float):  # bool is an int
        return json.dumps(key)
    return str(key)


def _jsonable(value: Any) -> Any:
    """``value`` as JSON types: keys that JSON has no word for (a date, say) become strings,
    and so do values (times, bytes, sets). Nesting is bounded by ``MAX_DEPTH`` already."""
    if isinstance(value, dict):
        return {_json_key(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _field(data: dict[Any, Any], key: str, kinds: tuple[type, ...], what: str) -> Any:
    """``data[key]`` if it is one of ``kinds`` (or absent/null: None); else a bad file."""
    value = data.get(key)
    if value is None or (
        isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
    ):
        return value
    raise BadFile(f"{key} is {_kind(value)}, not {what}")


def article_from_mapping(data: dict[Any, Any], parent: Article | None = None) -> Article:
    """One article (and its related entries) from a front-matter mapping.

    A known field of the wrong type (a list for a title, a mapping for a date) makes the file
    bad: the field table of ARTICLE_FORMAT.md is the contract.
    """
    title = clean_text(_text(data, "title"))
    if not title:
        raise BadFile("missing title")
    raw = data.get("webUrl") or data.get("originalUrl")
    if raw is None:
        raise BadFile(f"missing webUrl (or originalUrl) for {title[:80]!r}")
    web_url = _http_url(raw, "webUrl" if data.get("webUrl") else "originalUrl")
    aliases = []
    for key in ("ampWebUrl", "cdnAmpWebUrl", "originalUrl"):
        value = _text(data, key)
        if value.strip():
            try:
                aliases.append(canonical_url(_http_url(value, key)))
            except BadFile:
                pass  # an odd AMP address is not worth rejecting the article
    provider = _field(data, "provider", (dict,), "a mapping") or {}
    _field(data, "published", (bool,), "a boolean")
    topics_raw = _field(data, "topics", (list, str), "a list of strings")
    if isinstance(topics_raw, str):
        topics_raw = [topics_raw]
    topics = []
    for i, topic in enumerate(topics_raw or []):
        text = clean_text(_text({0: topic}, 0, f"topic {i + 1}"))
        if text:
            topics.append(text)
    inherited = list(parent.topics) if not topics and parent is not None else []
    images = _field(data, "images", (list,), "a list") or []
    for i, image in enumerate(images):
        if not isinstance(image, dict):
            raise BadFile(f"image {i + 1} is {_kind(image)}, not a mapping")
    domain = clean_text(_text(provider, "domain", "provider domain")).lower()
    if not domain:
        domain = (urlsplit(web_url).hostname or "").lower().removeprefix("www.")
    url = canonical_url(web_url)
    featured = _text(data, "featuredContent")
    article = Article(
        url=url,
        web_url=web_url,
        title=title,
        excerpt=clean_text(_text(data, "excerpt")),
        provider=clean_text(_text(provider, "name", "provider name")) or domain,
        domain=domain,
        published_ts=parse_timestamp(data.get("publishedDateTime")),
        category=clean_text(_text(data, "category")) or None,
        type=clean_text(_text(data, "type")) or None,
        quality=_int_or_none(data, "quality"),
        heat=_int_or_none(data, "heat"),
        topics=topics,
        inherited_topics=inherited,
        images=_jsonable(images),
        featured_content=featured or None,
        aliases=[a for a in dict.fromkeys(aliases) if a != url],
        extra=_jsonable({k: v for k, v in data.items() if k not in KNOWN_FIELDS}),
    )
    related = data.get("related")
    if related is not None and not isinstance(related, list):
        raise BadFile("related is not a list")
    for i, entry in enumerate((related or [])[:MAX_RELATED]):
        if not isinstance(entry, dict):
            raise BadFile(f"related entry {i + 1} is not a mapping")
        try:
            article.related.append(article_from_mapping(entry, parent=article))
        except BadFile as exc:
            raise BadFile(f"related entry {i + 1}: {exc.reason}") from None
    return article


def split_front_matter(text: str) -> str:
    lines = text.split("\n")
    if not lines or lines[0].rstrip("\r") != "---":
        raise BadFile("no front matter: the first line is not '---'", line=1)
    for i, line in enumerate(lines[1:], start=1):
        if line.rstrip("\r") == "---":
            return "\n".join(lines[1:i])
    raise BadFile("front matter is not closed by a '---' line")


_YAML_TAG = "tag:yaml.org,2002:"
_STR, _MAP, _SEQ = _YAML_TAG + "str", _YAML_TAG + "map", _YAML_TAG + "seq"
# Scalars whose SafeConstructor method needs nothing but the node.
_SCALARS = {
    _YAML_TAG + name: getattr(SafeConstructor, f"construct_yaml_{name}")
    for name in ("null", "bool", "int", "float", "timestamp")
}


class _Unusual(Exception):
    """A node the fast path leaves to PyYAML's own constructor."""


def _construct(node: Node, loader: Any, seen: set[int], depth: int = 1) -> Any:
    """What SafeConstructor makes of a plain tree (maps, lists, str/int/float/bool/null/time).

    Front matter is such a tree. Anything else (anchors and aliases, merge keys, other tags)
    raises _Unusual, and the caller hands the whole document to PyYAML's constructor (as it
    does on any error here), so the result is always what ``yaml.load`` gives: this path only
    skips the generic machinery, about half of the time of a load. A tree deeper than
    ``MAX_DEPTH`` is a bad file.
    """
    cls = node.__class__
    tag = node.tag
    if cls is ScalarNode:
        if tag == _STR:
            return node.value
        scalar = _SCALARS.get(tag)
        if scalar is None:
            raise _Unusual
        return scalar(loader, node)
    if depth > MAX_DEPTH:
        raise _too_deep()
    if id(node) in seen:
        raise _Unusual  # an alias: PyYAML would share the object
    seen.add(id(node))
    if cls is MappingNode and tag == _MAP:
        out = {}
        for key_node, value_node in node.value:
            if key_node.__class__ is not ScalarNode:
                raise _Unusual  # a complex key
            if key_node.tag == _STR:
                key = key_node.value
            else:
                scalar = _SCALARS.get(key_node.tag)
                if scalar is None:
                    raise _Unusual  # merge keys ("<<"), "=", other tags
                key = scalar(loader, key_node)
            if value_node.__class__ is ScalarNode and value_node.tag == _STR:
                out[key] = value_node.value
            else:
                out[key] = _construct(value_node, loader, seen, depth + 1)
        return out
    if cls is SequenceNode and tag == _SEQ:
        return [_construct(item, loader, seen, depth + 1) for item in node.value]
    raise _Unusual


def _too_deep() -> BadFile:
    return BadFile(f"front matter is nested more than {MAX_DEPTH} levels deep")


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def check_nodes(root: Node, max_size: int) -> None:
    """Refuse a YAML node graph before anything is built from it: one nested deeper than
    ``MAX_DEPTH``, one whose aliases loop (a list that holds itself), or one that would expand
    to more than ``max_size`` (each alias counted at the full size of what it repeats: a
    scalar its length, a collection the sum of its parts). Iterative: no recursion to exhaust.

    Without aliases a document's size is about its text's length; aliases can multiply it
    ("billion laughs", or one 1 MB anchor aliased 100,000 times).
    """
    size: dict[int, int] = {}
    height: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, closing = stack.pop()
        key = id(node)
        if closing:
            open_nodes.discard(key)
            children = _children(node)
            size[key] = 1 + sum(size[id(c)] for c in children)
            height[key] = 1 + max((height[id(c)] for c in children), default=0)
            if size[key] > max_size:
                raise BadFile(
                    "front matter uses YAML aliases that expand it too far "
                    f"(over {max_size:,} characters)"
                )
            if height[key] > MAX_DEPTH:
                raise _too_deep()
            continue
        if key in size:
            continue  # met before, through an alias: its size is known
        if isinstance(node, ScalarNode):
            size[key] = len(node.value) + 1
            height[key] = 0  # depth counts collections, as in _construct
            if size[key] > max_size:
                raise BadFile(
                    "front matter uses YAML aliases that expand it too far "
                    f"(over {max_size:,} characters)"
                )
            continue
        if key in open_nodes or len(open_nodes) >= MAX_DEPTH:
            if key in open_nodes:
                raise BadFile("front matter uses YAML aliases that loop")
            raise _too_deep()
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node))


# Where a YAML anchor may start: "&" then a name, at the start of the text, after blanks or
# line breaks, or after a flow indicator. Without an anchor there is no alias, so a text
# this does not match cannot expand (an over-broad match, "AT &amp;T", only costs a check).
_ANCHOR = re.compile(r"(?:^|[\s\[\{,:])&[^\s\[\]\{\},]")


def load_yaml(text: str, max_size: int | None = None) -> Any:
    """``yaml.load(text, Loader=CSafeLoader)``, with a faster construction of plain trees.

    Nothing is built from a text that may hold aliases before :func:`check_nodes` has passed
    its node graph (``max_size``: by default twice the text's length, plus 64 kB); a plain
    tree is bounded in depth as it is built.
    """
    limit = max_size if max_size is not None else 2 * len(text) + 65536
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        checked = bool(_ANCHOR.search(text))
        if checked:
            check_nodes(node, limit)
        try:
            return _construct(node, loader, set())
        except BadFile:
            raise
        except Exception:  # _Unusual, or a bad scalar: PyYAML's constructor has the last word
            pass
        if not checked:
            check_nodes(node, limit)
        return loader.construct_document(node)
    finally:
        loader.dispose()


# The "related:" block of a front matter, as real files write it: a key alone on its line at
# the left margin, then a block sequence indented by some spaces.
_ITEM = re.compile(r"( +)-(?: |\r?$)")
_BLOCK_SCALAR = re.compile(r":[ \t]+[|>]", re.MULTILINE)
_SENTINEL = "newsbot-related-entries-0c5e1f"
_RELATED_CACHE: dict[str, Article] = {}  # an entry's text: its article without inherited labels
_RELATED_CACHE_MAX = 100_000


_RELATED_KEY = re.compile(r"^related:\r?\n", re.MULTILINE)
_BLOCK_END = re.compile(r"\n(?=[^ \n][^\n]*\S)")  # a line at the margin that is not blank
_OUTDENTED: dict[str, re.Pattern[str]] = {}  # per indent: a line less indented, not blank


def _related_chunks(front: str, start: int) -> tuple[list[str], int] | None:
    """The texts of the entries of the block sequence that starts at ``front[start]`` (one per
    item, as written), and where the block ends; None when the block is not plainly laid out
    (then the caller parses the whole front matter)."""
    found = _BLOCK_END.search(front, start)
    end = found.start() if found else len(front)
    block = front[start:end]
    first = _ITEM.match(block)
    if first is None:
        return None
    indent = first.group(1)
    outdented = _OUTDENTED.get(indent)
    if outdented is None:
        outdented = _OUTDENTED.setdefault(indent, re.compile(rf"\n(?!{indent})[ \t\r]*\S"))
    if outdented.search(block) or not block.startswith(indent + "- "):
        return None  # a line less indented than the items, or an item "-" alone on its line
    lead = f"\n{indent}- "
    parts = block.split(lead)
    if f"\n{indent}-\n" in block or f"\n{indent}-\r\n" in block or block.endswith(f"\n{indent}-"):
        return None
    parts[0] = parts[0].removeprefix(indent + "- ")
    return [indent + "- " + part for part in parts], end


def _related_entry(chunk: str) -> Article:
    """The article of one related entry's text, parsed once per distinct text (no inherited
    labels); raises whatever parsing it alone raises."""
    found = _RELATED_CACHE.get(chunk)
    if found is None:
        value = load_yaml(chunk)
        if not (isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict)):
            raise _Unusual
        found = article_from_mapping(value[0])
        if len(_RELATED_CACHE) >= _RELATED_CACHE_MAX:
            _RELATED_CACHE.clear()
        _RELATED_CACHE[chunk] = found
    return found


def _parse_split(front: str) -> Article | None:
    """The article of a front matter whose ``related`` entries are parsed one by one, each
    distinct text once (real corpora repeat the same entry word for word in hundreds of files:
    most of their text); None where that could differ from parsing the whole front matter, or
    where anything goes wrong: the caller then parses it whole, as before, so the result (the
    article, or the reason a file is bad) is always the whole parse's.

    Why the pieces parse as the whole does: an alias to an anchor in another piece fails to
    parse alone (and an "&" in an excerpt is no reason to parse the whole); no block scalars, the key ``related`` on a line of its own at the margin and its entries one
    block sequence below it, every line of which is indented at least as far as its items;
    each item is parsed alone as written. The rest of the front matter is parsed with the
    block replaced by a placeholder value, which must come back as the value of the top-level
    key ``related``: were the block inside some other scalar (a quoted text running over
    lines), the placeholder would not. An entry cut in the middle of a quoted text fails to
    parse alone."""
    at = list(_RELATED_KEY.finditer(front))
    if len(at) != 1:
        return None
    split = _related_chunks(front, at[0].end())
    if split is None:
        return None
    chunks, end = split
    if _BLOCK_SCALAR.search(front, at[0].end(), end):
        return None
    try:
        rest = load_yaml(f'{front[: at[0].start()]}related: "{_SENTINEL}"{front[end:]}')
        if not isinstance(rest, dict) or rest.get("related") != _SENTINEL:
            return None
        del rest["related"]
        entries = [_related_entry(c) for c in chunks]
        article = article_from_mapping(rest)
    except Exception:  # whatever it is, the whole parse has the last word
        return None
    inherited = [] if not article.topics else list(article.topics)
    labels = "\x00".join(inherited).encode()
    for chunk, entry in zip(chunks[:MAX_RELATED], entries, strict=False):
        key = hashlib.blake2b(chunk.encode() + b"\x01" + labels, digest_size=16).digest()
        copy = object.__new__(Article)  # dataclasses.replace, without its checks' cost
        copy.__dict__.update(entry.__dict__)
        copy.inherited_topics = inherited if not entry.topics else []
        copy.key = key
        article.related.append(copy)
    return article


def parse_text(text: str) -> Article:
    front = split_front_matter(text.lstrip("\ufeff"))
    fast = _parse_split(front)
    if fast is not None:
        return fast
    try:
        data = load_yaml(front)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).split("\n")[0]
        # +1: the front matter starts on the file's second line
        raise BadFile(f"YAML error: {problem}", line=mark.line + 2 if mark else None) from None
    except (ValueError, OverflowError) as exc:  # a value YAML recognised but cannot build,
        raise BadFile(f"YAML error: {exc}") from None  # e.g. the timestamp 2020-13-45
    except RecursionError:  # pragma: no cover - check_nodes bounds the depth before this
        raise BadFile(_too_deep().reason) from None
    if not isinstance(data, dict):
        raise BadFile(f"front matter is not a YAML mapping (got {type(data).__name__})")
    return article_from_mapping(data)


_KINDS = {
    stat.S_IFDIR: "a folder",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFLNK: "a symbolic link",
}


def _check_regular(mode: int) -> None:
    if not stat.S_ISREG(mode):
        kind = _KINDS.get(stat.S_IFMT(mode), "not a file")
        raise BadFile(f"not a regular file: {kind}")


def _unreadable(path: Path, exc: OSError) -> BadFile:
    """Why ``path`` cannot be read, in words (a symbolic link loop is not "no such file")."""
    if exc.errno == errno.ELOOP:
        return BadFile("cannot read: a loop of symbolic links")
    if exc.errno == errno.ENOENT and os.path.islink(path):
        return BadFile("cannot read: a symbolic link to nothing (its target does not exist)")
    if exc.errno == errno.ENAMETOOLONG:
        return BadFile("cannot read: the name is too long")
    return BadFile(f"cannot read: {exc.strerror or exc}")


def read_bounded(path: Path, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """A regular file's bytes, at most ``max_bytes`` of them, else :class:`BadFile`.

    Folders, devices, FIFOs and sockets (or links to them: ``/dev/zero``) are refused by type
    before anything is opened; the file is opened non-blocking, so one swapped for a FIFO
    meanwhile cannot hang the load, and looked at again once open; and the cap holds while
    reading, whatever the size said (a file that grows, a lying file system).
    """
    try:
        info = os.stat(path)  # follows links: the type of what would be opened
    except OSError as exc:
        raise _unreadable(path, exc) from None
    _check_regular(info.st_mode)
    if info.st_size > max_bytes:
        raise BadFile(f"file is {info.st_size:,} bytes, over the {max_bytes:,}-byte cap")
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise _unreadable(path, exc) from None
    try:
        _check_regular(os.fstat(fd).st_mode)  # what was opened, not what was looked at
        chunks: list[bytes] = []
        total = 0
        while True:
            try:
                chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            except BlockingIOError:  # pragma: no cover - a regular file never blocks
                raise BadFile("cannot read: the file would block") from None
            except OSError as exc:
                raise _unreadable(path, exc) from None
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:
                raise BadFile(f"file is over the {max_bytes:,}-byte cap")
    finally:
        os.close(fd)


def parse_file(path: Path, max_bytes: int = MAX_FILE_BYTES) -> Article:
    raw = read_bounded(path, max_bytes)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadFile(f"not UTF-8 (byte {exc.start})") from None
    return parse_text(text)
