"""Small rules at their exact edges: the file refusal's wording and size, the first
conversation's URL."""
from core.routes import conversation_from_hash, hash_for
from core.send_limits import attachment_refusal

MIB = 1024 * 1024


def test_a_file_without_a_name_is_called_this_file():
    assert attachment_refusal("", "text/plain", 10) == (
        "This file is not an image the chat accepts. Choose a PNG, JPEG, GIF or WebP image.")
    assert attachment_refusal("", "image/png", 6 * MIB).startswith("This file is 6.0 MB")


def test_a_files_size_is_said_in_mebibytes_to_one_decimal():
    # 7.051 MiB: one decimal of a mebibyte (1,048,576 bytes) says 7.1, of anything larger 7.0
    assert attachment_refusal("big.png", "image/png", int(7.051 * MIB)) == (
        "big.png is 7.1 MB; images can be at most 5 MB.")


def test_conversation_1_has_its_own_url():
    assert hash_for(1) == "#/conversations/1"
    assert conversation_from_hash("#/conversations/1") == 1
