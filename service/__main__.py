"""``python -m service`` is the ``copydesk`` command."""

from service.cli import main

main()
