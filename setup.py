"""setuptools' one hook: every build (a wheel, pip install) carries the compiled message catalogs.

The .mo files are built, not committed (core/i18n/catalogs.py says why); pyproject.toml holds the rest.
"""

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithCatalogs(build_py):
    def run(self) -> None:
        from babel.messages.frontend import CommandLineInterface

        CommandLineInterface().run(["pybabel", "--quiet", "compile", "--directory", "core/locales"])
        super().run()


setup(cmdclass={"build_py": BuildWithCatalogs})
