"""The Word Embeddings page in a real browser: from the tutorial's settings (the N-gram model on the
sonnet) to word2vec on the bundled book, trained live with a progress bar, whose neighbours look
like the textbook's ('she' next to 'he'). Screenshots go to test-artifacts/e2e/."""

from __future__ import annotations

import time

import pytest

from tests.e2e.live import page_problems, screenshot, wait_idle

pytestmark = pytest.mark.e2e


def choose(page, key: str, label: str) -> None:
    page.locator(f".st-key-{key}").get_by_text(label).click()
    wait_idle(page)


def neighbour_words(page, word: str) -> list[str]:
    """The words of the "Nearest to 'word'" table, in order (read from the grid's accessible table)."""
    column = page.locator('[data-testid="stColumn"]', has_text=f"Nearest to '{word}'").last
    rows = column.locator('[data-testid="stDataFrame"] tbody tr')
    return [rows.nth(i).locator("td").first.text_content().strip() for i in range(rows.count())]


def test_word2vec_on_the_book_trains_live_and_finds_she_next_to_he(server, page):
    page.goto(f"{server.url}/Word_Embeddings")
    wait_idle(page)
    page.get_by_role("button", name="Use the tutorial's settings").first.click()  # the N-gram model on the sonnet (~15 s)
    wait_idle(page)
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert "Next-word accuracy" in main and "Nearest to 'beauty'" in main  # the N-gram model, on the sonnet
    assert page_problems(page) == []

    choose(page, "emb_model", "word2vec")
    choose(page, "emb_source", "Pride and Prejudice")
    assert neighbour_words(page, "he"), "no neighbours table for 'he' (the book's default word)"

    page.get_by_role("button", name="Retrain").first.click()  # train it here, not from the shipped checkpoint
    start = time.perf_counter()
    page.wait_for_selector('[data-testid="stProgress"]', timeout=60_000)  # the live progress bar
    wait_idle(page)
    seconds = time.perf_counter() - start
    main = page.locator('[data-testid="stMain"]').inner_text()
    shot = screenshot(page, "word_embeddings_word2vec_book")
    assert page_problems(page) == [], f"see {shot}"
    assert "Training word2vec: done in" in main, f"no finished training in the status box (see {shot})"
    words = neighbour_words(page, "he")
    assert "she" in words[:3], f"neighbours of 'he': {words} (see {shot})"
    assert "121,876" in main and "2,062" in main  # the whole book, its vocabulary
    print(f"\nword2vec on the book, retrained in the browser: {seconds:.1f} s to idle")
