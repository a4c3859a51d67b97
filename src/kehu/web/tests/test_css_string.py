from kehu.web.templatetags.kehu import css_string


def test_css_string_keeps_dashes_and_escapes_what_would_end_the_string():
    assert css_string("SH-001 客户") == "SH-001 客户"
    assert css_string('a"b\\c</style>') == "a\\22 b\\5c c\\3c /style\\3e "
