"""``peep-hook fill``: add the missing hashes to requirements files, asking
pip's own finder and session (imported only when fill runs).
"""
