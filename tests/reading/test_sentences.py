from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from newsie.reading.sentences import MAX_SENTENCE_CHARS, chunk_sentences, split_sentences


def test_offsets_match_the_text() -> None:
    text = "Title line\n\nDr. Kim met Mr. Lee in Seoul. They signed a deal! Was it big?\n“Yes.”"
    sentences = split_sentences(text)
    assert [s.number for s in sentences] == list(range(1, len(sentences) + 1))
    for s in sentences:
        assert text[s.start : s.end] == s.text
    assert sentences[0].text == "Title line"
    assert any(s.text == "Dr. Kim met Mr. Lee in Seoul." for s in sentences)


def test_unpunctuated_junk_is_cut_into_bounded_pieces() -> None:
    text = "word " * 1000
    sentences = split_sentences(text)
    assert all(len(s.text) <= MAX_SENTENCE_CHARS for s in sentences)
    assert all(text[s.start : s.end] == s.text for s in sentences)


def test_chunks_overlap_and_cover_everything() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(100))
    sentences = split_sentences(text)
    chunks = chunk_sentences(sentences, max_chars=300)
    assert len(chunks) > 1
    assert all(sum(len(s.text) + 1 for s in c) <= 300 + 40 for c in chunks)
    seen = {s.number for c in chunks for s in c}
    assert seen == {s.number for s in sentences}
    assert chunks[0][-1] == chunks[1][0]


def test_threads_each_split_their_own_text() -> None:
    # extract_many and the Ray actors split articles on several threads at once
    texts = [f"Acme signed a deal with Beta in Oslo. Beta passed audit {i}. Gamma grew {i}%."
             for i in range(400)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        split = list(pool.map(split_sentences, texts))
    assert split == [split_sentences(text) for text in texts]
