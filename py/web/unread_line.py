"""The "New messages" line (issue 14): decided once per open, above the first unread message
from the other party (core/chat_marks.first_unread_id), and placed when that message is; the
first time, the reader starts at the line when its message would be off screen at the bottom.
"""

from core import scroll_rules
from core.chat_marks import first_unread_id
from web.web_dom import el


class UnreadLine:
    def __init__(self):
        self.decided = False
        self.mid = None  # the message the line goes above
        self.scrolled = False
        self.node = el("div", "unread-divider", "New messages",
                       attrs={"role": "separator", "data-testid": "unread-divider"})

    def decide(self, log, me_id):
        """The first page is in: True when there is a line to place (once per open)."""
        if self.decided or log is None:
            return False
        self.decided = True
        self.mid = first_unread_id(log, me_id)
        return self.mid is not None

    def place(self, nodes, items, lst):
        """Put the line above its message (again after a rebuild). True when, the first time,
        the list `lst` was scrolled to the line (no bottom following this frame)."""
        node = nodes.get(self.mid) if self.mid is not None else None
        if node is None:
            return False
        line = self.node
        if line.nextSibling != node:
            items.insertBefore(line, node)
        if self.scrolled:
            return False
        self.scrolled = True
        top = line.getBoundingClientRect().top - lst.getBoundingClientRect().top + lst.scrollTop
        target = scroll_rules.scroll_top_for_unread_line(top, lst.clientHeight, lst.scrollHeight)
        if target is None:
            return False
        lst.scrollTop = target
        return True
