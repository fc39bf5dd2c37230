from tokenlean.indexers.terms import index_text, query_terms, split_identifier


def test_camel_case_is_split_into_words():
    assert split_identifier("getUserName") == ("get", "user", "name")


def test_acronyms_stay_together():
    assert split_identifier("HTTPServerError") == ("http", "server", "error")


def test_snake_case_and_digits_are_split():
    assert split_identifier("parse_args_v2") == ("parse", "args", "v", "2")


def test_index_text_keeps_the_whole_identifier_and_its_stemmed_parts():
    assert index_text("def getUserNames(self):") == "def getusernames get user name self"


def test_single_words_are_stemmed_not_duplicated():
    assert index_text("returns values") == "return valu"


def test_inflections_meet_at_their_stem():
    assert query_terms("forking")[0] == query_terms("forked")[0] == index_text("fork")


def test_non_ascii_identifiers_stay_whole():
    assert index_text("größeBerechnen") == "größeberechnen"


def test_query_terms_drop_stopwords_and_keep_order():
    assert query_terms("Why does the HTTPServer fail when parse_args is None?") == [
        "httpserver",
        "http",
        "server",
        "fail",
        "parse_args",
        "pars",
        "arg",
    ]


def test_query_of_only_stopwords_keeps_them_when_asked():
    assert query_terms("the and of") == []
    assert query_terms("the and of", keep_stopwords=True) == ["the", "and", "of"]
