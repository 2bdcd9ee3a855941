"""Model building: the one contract Model(data, **schema keys), the DataInfo build makes, and the
capability checks (data kinds, per-step targets, second derivatives, closed-form fits)."""

import dataclasses
import inspect

import pytest
import torch
from hydra.utils import get_class

from dlrun.build import build, check_config, check_second_derivatives, data_info, from_schema
from dlrun.config.compose import compose_config
from dlrun.config.model import SCHEMAS, CNNConfig, ESNConfig, MLPConfig, MLPNumpyConfig
from dlrun.data.base import KINDS
from dlrun.errors import InputError
from dlrun.models.base import DataInfo
from dlrun.models.head import DeepGLM


@pytest.mark.parametrize("name", SCHEMAS)
def test_constructor_arguments_are_the_schema_keys_without_defaults(name):
    schema = SCHEMAS[name]
    model_class = get_class(schema._target_)
    parameters = list(inspect.signature(model_class.__init__).parameters.values())[1:]
    assert parameters[0].name == "data"
    options = {p.name: p for p in parameters[1:]}
    keys = [f.name for f in dataclasses.fields(schema) if f.name != "_target_"]
    assert sorted(options) == sorted(keys)
    for parameter in options.values():
        assert parameter.kind is inspect.Parameter.KEYWORD_ONLY
        assert parameter.default is inspect.Parameter.empty, parameter.name


@pytest.mark.parametrize("name", SCHEMAS)
def test_capabilities_are_declared_on_the_model_class(name):
    model_class = get_class(SCHEMAS[name]._target_)
    assert issubclass(model_class, DeepGLM)
    assert model_class.accepts and set(model_class.accepts) <= set(KINDS)
    # the recurrent models, and only they, take sequences alone and read a target per step
    sequences_only = model_class.accepts == ("sequence",)
    assert model_class.per_step_targets == model_class.recurrent == sequences_only


def built(*overrides: str):
    return build(*compose_config(*overrides))


def test_digits_reach_grid_models_as_8x8_images_and_the_rest_as_64_features():
    experiment = built("model=cnn", "dataset=digits")
    info = data_info(experiment.data)
    assert info == DataInfo((64,), "multiclass", 10, "tabular", (), (8, 8))
    assert info.grid() == ((8, 8), "image")
    assert isinstance(experiment.model.blocks[0].conv, torch.nn.Conv2d)
    assert experiment.model.grid.shape == (1, 8, 8)
    glm = built("model=softmax", "dataset=digits").model
    assert glm.weight.shape == (10, 64)


def test_sequence_targets_give_the_target_shape():
    experiment = built("model=gru", "dataset=copy", "seq_len=5", "dataset.n_samples=40")
    info = data_info(experiment.data)
    # copy: `length` 10 symbols, a delay of seq_len, the recall: a target at each of T steps
    assert info.kind == "sequence" and info.input_shape == (5 + 2 * 10, 10)
    assert info.target_shape == (5 + 2 * 10,) and info.n_classes == 9
    x = experiment.data.train.X[:3]
    assert experiment.model(x).shape == (3, 25, 9)


@pytest.mark.parametrize(
    "overrides,message",
    [
        (("model=gru", "dataset=diabetes"), "model=gru takes sequence data, but dataset=diabetes"),
        (("model=mlp", "dataset=adding"), "model=mlp takes tabular or image data"),
        (("model=cnn", "dataset=copy", "seq_len=5"), "a target at each of 25 steps"),
    ],
)
def test_a_model_is_refused_on_data_it_cannot_take(overrides, message):
    with pytest.raises(InputError, match=message):
        built(*overrides)


def test_second_derivatives_are_refused_for_the_numpy_model_only():
    data = DataInfo((3,), "regression")
    numpy_model = from_schema(MLPNumpyConfig, data, hidden=[2])
    assert not numpy_model.second_derivatives
    with pytest.raises(InputError, match="optimizer=newton needs second derivatives.*model=mlp"):
        check_second_derivatives(numpy_model, "optimizer=newton")
    check_second_derivatives(from_schema(MLPConfig, data, hidden=[2]), "optimizer=newton")


def test_closed_form_is_the_esn_ridge_readout_and_no_other_model():
    data = DataInfo((6, 1), "regression", kind="sequence")
    assert from_schema(ESNConfig, data, reservoir_size=5).closed_form
    assert not from_schema(ESNConfig, data, reservoir_size=5, readout="sgd").closed_form
    mlp = from_schema(MLPConfig, DataInfo((3,), "regression"))
    assert not mlp.closed_form
    with pytest.raises(NotImplementedError):
        mlp.fit_closed_form(torch.zeros(2, 3), torch.zeros(2))


@pytest.mark.parametrize(
    "override",
    [
        "model.channels=[4,0]",
        "model.kernel_size=0",
        "model.stride=[1,0]",
        "model.padding=-1",
        "model.padding_mode=mirror",
        "model.pool_size=0",
    ],
)
def test_cnn_range_rules_fail_at_the_config_check_with_the_key_named(override):
    cfg, _ = compose_config("model=cnn", override)
    key = override.split("=")[0]
    with pytest.raises(InputError, match=f"^{key}="):
        check_config(cfg)


def test_the_schema_rules_run_for_models_built_from_a_schema():
    with pytest.raises(ValueError, match="stride"):
        from_schema(CNNConfig, DataInfo((8, 8), "binary", kind="image"), stride=0)


def test_a_kernel_wider_than_the_data_is_refused_where_data_meets_the_model(run_dlrun):
    with pytest.raises(InputError, match="shrinks to nothing after layer 1"):
        run_dlrun("model=cnn", "model.channels=[4]", "model.kernel_size=11", "model.padding=0")
