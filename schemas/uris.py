"""RFC 3986 grammars as regular expressions, for the envelope and page-view URLs.

The patterns avoid look-arounds so that pydantic's Rust regex engine can run them; they
only use ASCII classes (no ``\\d``, which is Unicode-aware in Rust). Non-ASCII characters
are not URI characters: producers percent-encode them, as browsers do.
"""

from __future__ import annotations

_UNRESERVED = r"A-Za-z0-9\-._~"
_SUB_DELIMS = r"!$&'()*+,;="
_PCT = r"%[0-9A-Fa-f]{2}"
_PCHAR = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}:@]|{_PCT})"
_SEGMENT = rf"{_PCHAR}*"
_SEGMENT_NZ = rf"{_PCHAR}+"
_SEGMENT_NZ_NC = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}@]|{_PCT})+"
_QUERY = rf"(?:{_PCHAR}|[/?])*"
_FRAGMENT = _QUERY
_SCHEME = r"[A-Za-z][A-Za-z0-9+\-.]*"
_USERINFO = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}:]|{_PCT})*"
_IP_LITERAL = rf"\[(?:[0-9A-Fa-f:.]+|[vV][0-9A-Fa-f]+\.[{_UNRESERVED}{_SUB_DELIMS}:]+)\]"
_REG_NAME = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}]|{_PCT})*"
_REG_NAME_NONEMPTY = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}]|{_PCT})+"
_PORT = r"[0-9]*"
_AUTHORITY = rf"(?:{_USERINFO}@)?(?:{_IP_LITERAL}|{_REG_NAME})(?::{_PORT})?"
_PATH_ABEMPTY = rf"(?:/{_SEGMENT})*"
_PATH_ABSOLUTE = rf"/(?:{_SEGMENT_NZ}(?:/{_SEGMENT})*)?"
_PATH_NOSCHEME = rf"{_SEGMENT_NZ_NC}(?:/{_SEGMENT})*"
_PATH_ROOTLESS = rf"{_SEGMENT_NZ}(?:/{_SEGMENT})*"
_HIER_PART = rf"(?://{_AUTHORITY}{_PATH_ABEMPTY}|{_PATH_ABSOLUTE}|{_PATH_ROOTLESS}|)"
_RELATIVE_PART = rf"(?://{_AUTHORITY}{_PATH_ABEMPTY}|{_PATH_ABSOLUTE}|{_PATH_NOSCHEME}|)"
_URI = rf"{_SCHEME}:{_HIER_PART}(?:\?{_QUERY})?(?:#{_FRAGMENT})?"
_RELATIVE_REF = rf"{_RELATIVE_PART}(?:\?{_QUERY})?(?:#{_FRAGMENT})?"

#: RFC 3986 section 4.1 ``URI-reference``: an absolute URI or a relative reference.
URI_REFERENCE_PATTERN = rf"^(?:{_URI}|{_RELATIVE_REF})$"

#: RFC 3986 section 4.3 ``absolute-URI``: a scheme, no fragment.
ABSOLUTE_URI_PATTERN = rf"^{_SCHEME}:{_HIER_PART}(?:\?{_QUERY})?$"

#: An absolute ``http``/``https`` URL (scheme case-insensitive) with a non-empty host.
HTTP_URL_PATTERN = (
    rf"^[Hh][Tt][Tt][Pp][Ss]?://(?:{_USERINFO}@)?(?:{_IP_LITERAL}|{_REG_NAME_NONEMPTY})"
    rf"(?::{_PORT})?{_PATH_ABEMPTY}(?:\?{_QUERY})?(?:#{_FRAGMENT})?$"
)

_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"'


def _any_case(word: str) -> str:
    """A pattern matching ``word`` in any letter case, without inline flags (which ECMA-262,
    the regular-expression dialect of JSON Schema, has only had since 2025)."""
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in word)


#: ``application/json`` (case-insensitive) with optional RFC 9110 media-type parameters.
JSON_MEDIA_TYPE_PATTERN = rf"^{_any_case('application/json')}(?:[ \t]*;[ \t]*{_TOKEN}=(?:{_TOKEN}|{_QUOTED}))*[ \t]*$"
