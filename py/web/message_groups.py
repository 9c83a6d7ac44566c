"""Issue 14: one sender's messages within 5 minutes form a group (app.css: closer together,
one visible time, on the group's last message). The rule is core/chat_marks.py's; this keeps
each rendered message's key and group classes, and writes a node's class only when it changes.
"""

from core.chat_marks import group_key, key_continues


class MessageGroups:
    """    groups = MessageGroups(tz_offset, nodes)   # nodes: the list's message id -> element
        classes = groups.join(rendered_ids, index, message, key, after)
        groups.clear()                              # the list was rebuilt
    """

    def __init__(self, tz_offset, nodes):
        self.tz_offset = tz_offset
        self.nodes = nodes
        self.keys = {}   # message id -> chat_marks.GroupKey (its time parsed once)
        self.marks = {}  # message id -> the group classes its node has now

    def key_of(self, message):
        """The message's chat_marks.GroupKey (None: it cannot join a group), made once and
        kept: its neighbours' inserts compare it again."""
        mid = message["id"]
        if mid not in self.keys:
            self.keys[mid] = group_key(message, self.tz_offset)
        return self.keys[mid]

    def join(self, ids, index, message, key, after=None):
        """The new node's group classes, for `message` going in at `index` of the rendered
        `ids`; a neighbour's node is written only when its class changes. Each message's key
        is kept, so an insert parses one time, not its neighbours' too.

        A batch of new messages at the end (a burst, a first page) is one run: when the
        message inserted next (`after`) joins this one's group, this node gets its
        "group-continues" now, with its other classes, instead of a classList write on
        the node already in the DOM once `after` comes."""
        keys = self.keys
        mid = message["id"]
        mine = []
        if index > 0:
            joined = key_continues(keys.get(ids[index - 1]), key)
            if joined:
                mine.append("in-group")
            self._mark(ids[index - 1], "group-continues", joined)
        if index < len(ids):
            joined = key_continues(key, keys.get(ids[index]))
            if joined:
                mine.append("group-continues")
            self._mark(ids[index], "in-group", joined)
        elif after is not None and after["id"] > mid:
            if key_continues(key, self.key_of(after)):
                mine.append("group-continues")
        self.marks[mid] = set(mine)
        return mine

    def _mark(self, mid, name, on):
        marks = self.marks.setdefault(mid, set())
        if (name in marks) == on:
            return
        if on:
            marks.add(name)
        else:
            marks.discard(name)
        self.nodes[mid].classList.toggle(name, on)

    def clear(self):
        self.keys.clear()
        self.marks.clear()
