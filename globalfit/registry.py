"""Find models and likelihoods by name.

A name resolves, in order, through the built-in tables (``globalfit.models.BUILTIN``,
``likelihoods.BUILTIN``), the entry-point groups ``globalfit.models`` /
``globalfit.likelihoods`` of installed packages, or a ``package.module:Class`` string
written directly in the run card. Modules are imported only when a name is resolved, so a
built-in whose module is missing or broken gives a clear error naming the key in the card
instead of breaking every run.
"""
from __future__ import annotations

import importlib
import warnings
from importlib import metadata

from globalfit.likelihood import ENTRY_POINT_GROUP as LIKELIHOOD_ENTRY_POINT_GROUP
from globalfit.likelihood import Likelihood
from globalfit.models.base import Model
from globalfit.params import unknown_name_message

MODEL_ENTRY_POINT_GROUP = "globalfit.models"


def registered(builtin: dict[str, str], group: str) -> dict[str, str]:
    """Name -> ``module:Class``: the built-in table, then the entry points of ``group``."""
    table = dict(builtin)
    try:
        for entry in metadata.entry_points(group=group):
            table.setdefault(entry.name, entry.value)
    except Exception as error:  # a broken third-party distribution must not stop us
        warnings.warn(f"could not read entry points {group!r}: {error}", stacklevel=2)
    return table


def available_models() -> dict[str, str]:
    """Name -> ``module:Class`` for built-in and entry-point models."""
    from globalfit.models import BUILTIN

    return registered(BUILTIN, MODEL_ENTRY_POINT_GROUP)


def available_likelihoods() -> dict[str, str]:
    """Name -> ``module:Class`` for built-in and entry-point likelihoods."""
    from likelihoods import BUILTIN

    return registered(BUILTIN, LIKELIHOOD_ENTRY_POINT_GROUP)


def import_target(target: str, key: str):
    """Import ``package.module:Attribute``; errors name the run-card ``key``.

    Raises
    ------
    ValueError
        If the string is malformed, the module cannot be imported (the reason is given)
        or it has no such attribute.
    """
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"{key}: {target!r} is not of the form 'package.module:ClassName'")
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # ImportError, or an error raised while importing it
        raise ValueError(
            f"{key}: cannot import {module_name!r} (for {target!r}): "
            f"{type(error).__name__}: {error}"
        ) from error
    try:
        return getattr(module, attribute)
    except AttributeError:
        names = [n for n in dir(module) if not n.startswith("_")]
        message = unknown_name_message(key, attribute, f"class in {module_name}", names)
        raise ValueError(message) from None


def _resolve(name: str, key: str, what: str, table: dict[str, str], base: type) -> type:
    """A registered ``name`` or a ``package.module:Class``, checked to subclass ``base``."""
    if ":" in name:
        target = name
    elif name in table:
        target = table[name]
    else:
        raise ValueError(unknown_name_message(key, name, what, sorted(table)))
    cls = import_target(target, key)
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise ValueError(f"{key}: {target!r} is not a {base.__module__}.{base.__name__} subclass")
    return cls


def model_class(name: str, key: str = "model.name") -> type[Model]:
    """Resolve a model by registered name or ``package.module:Class``."""
    table = {} if ":" in name else available_models()
    return _resolve(name, key, "model", table, Model)


def likelihood_class(name: str, key: str | None = None) -> type[Likelihood]:
    """Resolve a likelihood by registered name or ``package.module:Class``."""
    table = {} if ":" in name else available_likelihoods()
    return _resolve(name, key or f"likelihoods.{name}", "likelihood", table, Likelihood)


def likelihood_instance_name(key: str, cls: type[Likelihood]) -> str:
    """Name a likelihood goes by in a run (nuisance prefix, chi^2 column).

    The card key, unless the key is a ``package.module:Class`` path: then the class's
    ``name`` (or the lower-case class name if it declares none).
    """
    if ":" not in key:
        return key
    return cls.name or cls.__name__.lower()


def likelihood_title(name: str) -> str:
    """Display name of a likelihood (``coherent_csi_2021`` -> ``COHERENT CsI 2021``): its
    class's ``title``, or ``name`` itself for a likelihood that declares none or is not
    registered under that name."""
    if name not in available_likelihoods():
        return name
    return likelihood_class(name).title or name
