"""Reading article files (see shared ARTICLE_FORMAT.md) into plain records.

Pure functions: no database, no Slack. ``parse_file`` either returns the file's articles (the
main one first, then its ``related`` entries) or raises :class:`BadFile` with a reason.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
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

# Query parameters that only track the reader: dropped from the canonical address.
TRACKING_PARAMS = {
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "mc_cid", "mc_eid",
    "igshid", "_ga", "_gl", "feedtype", "feedname", "ocid", "cmpid", "smid", "smtyp",
    "ncid", "sr_share", "cid", "icid", "src", "ref_src", "ref_url", "spm", "share",
}

KNOWN_FIELDS = {
    "title", "webUrl", "originalUrl", "excerpt", "publishedDateTime", "category", "type",
    "quality", "heat", "published", "provider", "topics", "images", "featuredContent",
    "ampWebUrl", "cdnAmpWebUrl", "related", "secured",
}
# Never kept, never shown: an opaque upstream token.
SECRET_FIELDS = {"secured"}


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
    topics: list[str] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    featured_content: str | None = None
    aliases: list[str] = field(default_factory=list)  # canonical AMP addresses
    extra: dict[str, Any] = field(default_factory=dict)
    related: list[Article] = field(default_factory=list)
    keys: list[str] | None = None  # title keys (bot.core.stories.title_keys), when worked out

    @property
    def published(self) -> str | None:
        if self.published_ts is None:
            return None
        return dt.datetime.fromtimestamp(self.published_ts, dt.UTC).isoformat().replace(
            "+00:00", "Z"
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


def _http_url(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadFile(f"{name} is not a string")
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018 - raises ValueError for a port that is no number or out of range
    except ValueError as exc:
        raise BadFile(f"{name} is not a valid URL: {exc}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise BadFile(f"{name} is not an http(s) URL: {value[:200]!r}")
    return value.strip()


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
        raise BadFile(f"publishedDateTime is not a time: {value!r}"[:200])
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp())


# HTML mark-up only: a tag name, then attributes. "<!channel>", "<@U1>", "3 < 5 > 2" and
# "<https://x|y>" are text, kept as written (and escaped on the way to Slack).
_TAG = re.compile(r"<!--.*?-->|</?[a-zA-Z][a-zA-Z0-9-]*(?:\s[^<>]{0,500})?/?>", re.DOTALL)


def clean_text(value: Any) -> str:
    """Plain text from a field that may hold HTML entities or mark-up."""
    if value is None:
        return ""
    text = str(value)
    text = _TAG.sub(" ", text)
    text = html.unescape(text)
    return re.sub(r"\s+", " ", text).strip()


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            return None
    if isinstance(value, int) and -(2**63) <= value < 2**63:  # what SQLite can store
        return value
    return None


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def article_from_mapping(data: dict[str, Any], parent: Article | None = None) -> Article:
    """One article (and its related entries) from a front-matter mapping."""
    title = clean_text(data.get("title"))
    if not title:
        raise BadFile("missing title")
    raw = data.get("webUrl") or data.get("originalUrl")
    if raw is None:
        raise BadFile(f"missing webUrl (or originalUrl) for {title[:80]!r}")
    web_url = _http_url(raw, "webUrl" if data.get("webUrl") else "originalUrl")
    aliases = []
    for key in ("ampWebUrl", "cdnAmpWebUrl", "originalUrl"):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            try:
                aliases.append(canonical_url(_http_url(value, key)))
            except BadFile:
                pass  # an odd AMP address is not worth rejecting the article
    provider = data.get("provider") if isinstance(data.get("provider"), dict) else {}
    topics_raw = data.get("topics")
    if isinstance(topics_raw, str):
        topics_raw = [topics_raw]
    topics = [clean_text(t) for t in topics_raw or [] if clean_text(t)] if isinstance(
        topics_raw, list
    ) else []
    if not topics and parent is not None:
        topics = list(parent.topics)
    images = [i for i in data.get("images") or [] if isinstance(i, dict)] if isinstance(
        data.get("images"), list
    ) else []
    domain = clean_text(provider.get("domain")).lower()
    if not domain:
        domain = (urlsplit(web_url).hostname or "").lower().removeprefix("www.")
    url = canonical_url(web_url)
    article = Article(
        url=url,
        web_url=web_url,
        title=title,
        excerpt=clean_text(data.get("excerpt")),
        provider=clean_text(provider.get("name")) or domain,
        domain=domain,
        published_ts=parse_timestamp(data.get("publishedDateTime")),
        category=clean_text(data.get("category")) or None,
        type=clean_text(data.get("type")) or None,
        quality=_int_or_none(data.get("quality")),
        heat=_int_or_none(data.get("heat")),
        topics=topics,
        images=_jsonable(images),
        featured_content=str(data["featuredContent"]) if data.get("featuredContent") else None,
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


def _construct(node: Node, loader: Any, seen: set[int]) -> Any:
    """What SafeConstructor makes of a plain tree (maps, lists, str/int/float/bool/null/time).

    Front matter is such a tree. Anything else (anchors and aliases, merge keys, other tags)
    raises _Unusual, and the caller hands the whole document to PyYAML's constructor (as it
    does on any error here), so the result is always what ``yaml.load`` gives: this path only
    skips the generic machinery, about half of the time of a load.
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
                out[key] = _construct(value_node, loader, seen)
        return out
    if cls is SequenceNode and tag == _SEQ:
        return [_construct(item, loader, seen) for item in node.value]
    raise _Unusual


def load_yaml(text: str) -> Any:
    """``yaml.load(text, Loader=CSafeLoader)``, with a faster construction of plain trees."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        try:
            return _construct(node, loader, set())
        except Exception:  # _Unusual, or a bad scalar: PyYAML's constructor has the last word
            return loader.construct_document(node)
    finally:
        loader.dispose()


def _check_expansion(data: Any, max_nodes: int) -> None:
    """Refuse front matter whose YAML aliases loop or expand it beyond ``max_nodes`` values.

    Without aliases every value costs at least a character of the text, so a legitimate file
    never has more values than characters; aliases can make it loop (a ``related`` list that
    holds itself) or explode (a few lines worth a billion strings, "billion laughs").
    """
    stack, count = [data], 0
    while stack:
        value = stack.pop()
        count += 1
        if count > max_nodes:
            raise BadFile("front matter uses YAML aliases that loop or expand it too far")
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)


def parse_text(text: str) -> Article:
    front = split_front_matter(text.lstrip("\ufeff"))
    try:
        data = load_yaml(front)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).split("\n")[0]
        # +1: the front matter starts on the file's second line
        raise BadFile(f"YAML error: {problem}", line=mark.line + 2 if mark else None) from None
    except (ValueError, OverflowError) as exc:  # a value YAML recognised but cannot build,
        raise BadFile(f"YAML error: {exc}") from None  # e.g. the timestamp 2020-13-45
    if not isinstance(data, dict):
        raise BadFile(f"front matter is not a YAML mapping (got {type(data).__name__})")
    if "&" in front:  # only aliases (which need anchors) can make values outnumber characters
        _check_expansion(data, max_nodes=len(front) + 100)
    return article_from_mapping(data)


def parse_file(path: Path, max_bytes: int = MAX_FILE_BYTES) -> Article:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise BadFile(f"file is {size:,} bytes, over the {max_bytes:,}-byte cap")
        raw = path.read_bytes()
    except OSError as exc:
        raise BadFile(f"cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadFile(f"not UTF-8 (byte {exc.start})") from None
    return parse_text(text)
