"""A search result's message brought into view and highlighted briefly (issue 22 item 6).

    found = FoundMessage()
    found.want(message_id)           # chosen; it may not be rendered yet (older pages coming)
    found.place(nodes, list_node)    # in the list's frame: True once it was scrolled to

The highlight is a CSS animation on `.message.is-found` (static/app.css) that fades by itself;
the class moves to the next message found.
"""

FOUND_CLASS = "is-found"


class FoundMessage:
    def __init__(self):
        self.wanted = None  # the message id to show once its node exists
        self.node = None    # the node highlighted last

    def want(self, message_id):
        self.wanted = message_id

    def place(self, nodes, list_node):
        node = nodes.get(self.wanted) if self.wanted is not None else None
        if node is None:
            return False
        self.wanted = None
        if self.node is not None:
            self.node.classList.remove(FOUND_CLASS)
        self.node = node
        node.classList.add(FOUND_CLASS)
        # The list alone scrolls (scrollIntoView would scroll the page's shell too): the
        # message's middle to the list's middle, one layout read in the list's frame.
        box, view = node.getBoundingClientRect(), list_node.getBoundingClientRect()
        list_node.scrollTop += (box.top + box.height / 2) - (view.top + list_node.clientHeight / 2)
        list_node.setAttribute("data-found-id", str(node.getAttribute("data-message-id")))
        return True
