from pipeline.framing import binary_mode_event, split_file, split_json_array, split_ndjson


def test_ndjson_skips_blank_lines_and_keeps_line_numbers():
    framed = list(split_ndjson(b'{"a":1}\r\n\n   \n{"b":2}\n'))
    assert [(x.body, x.position) for x in framed] == [(b'{"a":1}', 1), (b'{"b":2}', 4)]


def test_json_array_elements_keep_their_exact_bytes():
    content = b'\xef\xbb\xbf[ {"s": "a,]}\\"", "n": 1.10},\n  [1, [2]] , "x", {"bad": \xff} ]'
    assert split_json_array(content) == [b'{"s": "a,]}\\"", "n": 1.10}', b"[1, [2]]", b'"x"', b'{"bad": \xff}']


def test_not_an_array_or_trailing_garbage_is_not_framed_as_one():
    assert split_json_array(b'{"a": 1}') is None
    assert split_json_array(b"[1, 2] 3") is None
    assert split_json_array(b"[1, 2") is None
    assert split_json_array(b"[]") == []


def test_a_json_file_that_is_not_an_array_is_read_as_ndjson():
    assert [x.body for x in split_file("x.json", b'{"a":1}\n{"b":2}')] == [b'{"a":1}', b'{"b":2}']
    assert [x.position for x in split_file("x.JSON", b'[{"a":1},{"b":2}]')] == [1, 2]


def test_binary_mode_embeds_the_body_verbatim_as_data():
    event = binary_mode_event(
        {"ce-specversion": "1.0", "ce-source": "%2Fshop", "Content-Type": "application/json"}, b'{"total": 1.10}'
    )
    assert (
        event
        == b'{"specversion": "1.0", "source": "/shop", "datacontenttype": "application/json", "data": {"total": 1.10}}'
    )
