"""The wrappers peep-hook puts around pip, one module per concern.

* :mod:`.collect`: read hashes from every requirements and constraints file
  pip reads, and switch pip's own hash-checking mode on;
* :mod:`.enforce`: the guard before every fetch, the hashes each archive is
  checked against, and the reports added to pip's hash errors;
* :mod:`.build`: build dependencies, pinned to hashed versions and checked;
* :mod:`.installed`: what is already installed, and the record of what was.

:mod:`peep_hook.pip_patches` says where each wrapper goes and applies them.
"""
