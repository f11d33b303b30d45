import ast
import subprocess
import sys
from pathlib import Path

import newsie

PUBLIC = {
    "AliasFileError", "Article", "ArticleError", "Backend", "ConfigurationError",
    "ArticleTooLargeError",
    "BatchError", "BinaryInputError", "DateError",
    "EmptyArticleError", "Event", "Extraction", "Extractor", "Failure", "LinkedEvent",
    "LinkedSource", "LocalModelError",
    "MalformedArticleError", "Meeting", "MoU", "ModelError", "ModelOutputError", "Money",
    "NewsieError", "Order", "Party", "Person", "Quantity", "Score", "ServerError",
    "ServerUnreachableError", "Span", "Summary", "TemplateError", "Usage", "Visit",
    "__version__", "aextract", "aextract_many", "evaluate", "extract", "extract_many",
    "link", "load_article", "summarize", "timeline", "to_dataframe", "write_report",
    # your own event types
    "Amount", "Example", "Org", "People", "Phrase", "Place", "When", "UnknownEvent",
    "TypeDefinitionError", "UnknownTypeError", "resolve_types",
}


def test_all_is_exactly_the_public_api() -> None:
    assert set(newsie.__all__) == PUBLIC
    for name in newsie.__all__:
        assert hasattr(newsie, name), name


def test_the_package_module_only_re_exports() -> None:
    """Implementation lives in private modules; `newsie/__init__.py` names the API."""
    tree = ast.parse(Path(newsie.__file__).read_text(encoding="utf-8"))
    defined = [n for n in tree.body if isinstance(
        n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    assert defined == []


def test_every_error_is_a_newsie_error() -> None:
    errors = [getattr(newsie, n) for n in newsie.__all__ if n.endswith("Error")]
    assert all(issubclass(e, newsie.NewsieError) for e in errors)


def test_import_newsie_leaves_ray_out_and_newsie_ray_names_its_extra() -> None:
    code = (
        "import sys, newsie\n"
        "assert 'ray' not in sys.modules, 'import newsie imported ray'\n"
        "sys.modules['ray'] = None  # as if ray were not installed\n"
        "try:\n    import newsie.ray\nexcept ImportError as exc:\n    print(exc)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "pip install 'newsie[ray]'" in run.stdout
