"""``jtai client upload``: files to their requests, small ones whole, big ones in resumable parts.

``plan`` says what to send (which file to which request, how a big one is cut into parts),
``state`` keeps the resumable state file, ``transfer`` sends (parts several at a time, resumed).
"""
