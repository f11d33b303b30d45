import newsie

PUBLIC = {
    "AliasFileError", "Article", "ArticleError", "ArticleTooLargeError", "BinaryInputError",
    "EmptyArticleError", "Event", "Extraction", "Extractor", "Failure", "LinkedEvent",
    "LinkedSource", "LocalModelError",
    "MalformedArticleError", "Meeting", "MoU", "ModelError", "ModelOutputError", "Money",
    "NewsieError", "Order", "Party", "Person", "Quantity", "Score", "ServerError",
    "ServerUnreachableError", "Span", "Summary", "TemplateError", "Usage", "Visit",
    "__version__", "aextract", "aextract_many", "evaluate", "extract", "extract_many",
    "link", "load_article", "summarize", "timeline", "to_dataframe", "write_report",
}


def test_all_is_exactly_the_public_api() -> None:
    assert set(newsie.__all__) == PUBLIC
    for name in newsie.__all__:
        assert hasattr(newsie, name), name


def test_every_error_is_a_newsie_error() -> None:
    errors = [getattr(newsie, n) for n in newsie.__all__ if n.endswith("Error")]
    assert all(issubclass(e, newsie.NewsieError) for e in errors)
