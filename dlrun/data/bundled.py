"""scikit-learn's bundled data sets: they ship inside the package, nothing is downloaded."""

from sklearn import datasets

from dlrun.data.base import Source, Table

# keyed by the names dlrun.config.dataset.BUNDLED allows
LOADERS = {
    "digits": (datasets.load_digits, "multiclass"),
    "iris": (datasets.load_iris, "multiclass"),
    "wine": (datasets.load_wine, "multiclass"),
    "breast_cancer": (datasets.load_breast_cancer, "binary"),
    "diabetes": (datasets.load_diabetes, "regression"),
}


class Bundled(Source):
    """One of digits, iris, wine, breast_cancer, diabetes."""

    def __init__(self, *, name: str, **common) -> None:
        super().__init__(**common)
        self.name = name

    @property
    def own_task(self) -> str:
        return LOADERS[self.name][1]

    def load(self, seed: int) -> Table:
        loader = LOADERS[self.name][0]
        bunch = loader()
        names = [str(name) for name in bunch.feature_names]
        class_names = [str(c) for c in bunch.target_names] if "target_names" in bunch else None
        image_shape = bunch.images.shape[1:] if "images" in bunch else None  # digits: (8, 8)
        return Table(
            bunch.data,
            bunch.target,
            names,
            class_names=class_names,
            image_shape=image_shape,
        )
