"""What plugins register is checked before any run: bad results and option sections are named in one line."""

from __future__ import annotations

import pytest

from pipeline import hookimpl
from pipeline.errors import PluginError
from pipeline.hooks.manager import load_plugins


class ReturnsList:
    @hookimpl
    def pipeline_register_optimizers(self):
        return ["rmsprop"]


class ReturnsFunction:
    @hookimpl
    def pipeline_register_activations(self):
        return {"half": lambda z: z / 2}


class NumberedSchedule:
    @hookimpl
    def pipeline_register_schedules(self):
        return {3: lambda epoch, epochs, lr: lr}


class RaisesInRegistration:
    @hookimpl
    def pipeline_register_initializers(self):
        raise KeyError("config")


class Options:
    """A plugin declaring ``options`` as its config section."""

    def __init__(self, options):
        self.options = options

    @hookimpl
    def pipeline_register_options(self):
        if isinstance(self.options, Exception):
            raise self.options
        return self.options


@pytest.mark.parametrize("plugin, name, message", [
    (ReturnsList(), "bad", "plugin 'bad': pipeline_register_optimizers() must return a dict of name -> optimizer, "
                           "got list"),
    (ReturnsFunction(), "bad", "plugin 'bad': activation 'half' must be an object with forward(z) and "
                               "derivative(z, a) methods, got function"),
    (NumberedSchedule(), "bad", "plugin 'bad' registered schedule 3: a name must be a non-empty string"),
    (RaisesInRegistration(), "bad", "plugin 'bad' raised in pipeline_register_initializers(): KeyError: 'config'"),
    (Options(["depth"]), "bad", "plugin 'bad': pipeline_register_options() must return a dict of option name -> "
                                "default"),
    (Options({"depth": None}), "bad", "plugin 'bad': option 'depth' has a default of type NoneType; use bool, "
                                      "int, float, str, list or dict"),
    (Options(ValueError("no")), "bad", "plugin 'bad' raised in pipeline_register_options(): ValueError: no"),
    (Options({"epochs": 3}), "train", "plugin 'train': its option section would shadow the built-in section "
                                      "'train'"),
])
def test_bad_registrations_name_the_plugin(plugin, name, message):
    with pytest.raises(PluginError) as info:
        load_plugins(autoload=False, extra=[(plugin, name)])
    assert message in str(info.value) and "\n" not in str(info.value)


def test_an_option_section_is_the_plugins_name_with_its_defaults():
    plugins = load_plugins(autoload=False, extra=[(Options({"depth": 3, "tags": ["a"]}), "deep")])
    assert plugins.sections == {"deep": {"depth": 3, "tags": ["a"]}}
