"""The chat's header: back (phone width), the other party's avatar, name and role."""

from core import formatting
from core.safe_url import safe_image_url
from web.web_dom import el, svg_icon

ICON_BACK = "M15 18l-6-6 6-6"
ICON_SEARCH = "M11 4a7 7 0 1 0 0 14 7 7 0 0 0 0-14zM21 21l-4.35-4.35"


def avatar(user):
    """The other party's picture (a checked URL only), else their initials."""
    box = el("span", "avatar", attrs={"aria-hidden": "true"})
    url = safe_image_url((user or {}).get("profile_image"))
    if url:
        img = el("img", attrs={"alt": "", "loading": "lazy", "decoding": "async"})
        img.src = url
        box.appendChild(img)
    else:
        box.textContent = formatting.initials(user or {})
    return box


def chat_header(conversation, other, read_only, listeners, on_back, on_search=None):
    header = el("header", "chat-header")
    back = el("button", "icon-btn back-btn", attrs={"type": "button", "aria-label": "Back to conversations"})
    back.appendChild(svg_icon(ICON_BACK))
    listeners.add(back, "click", lambda e: on_back())
    header.appendChild(back)
    header.appendChild(avatar(other))
    titles = el("div")
    titles.appendChild(el("h2", "chat-title", formatting.display_name(other)))
    trainer_id = conversation.get("trainer", {}).get("id")
    role = "Trainee" if other.get("id") != trainer_id else "Trainer"
    titles.appendChild(el("p", "chat-subtitle", "Archived conversation" if read_only else role))
    header.appendChild(titles)
    if on_search is not None:  # issue 22 item 6: search this conversation
        search = el("button", "icon-btn chat-search-btn", attrs={
            "type": "button", "data-testid": "chat-search", "aria-label": "Search this conversation"})
        search.appendChild(svg_icon(ICON_SEARCH))
        listeners.add(search, "click", lambda e: on_search())
        header.appendChild(search)
    return header
