"""``python -m cloudstores``: the same as the ``cloudstores`` command."""

from cloudstores.cli import main

if __name__ == "__main__":
    main()
