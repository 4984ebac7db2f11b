"""BN-LeNet's BatchNorm momentum, chosen on a validation split held out from the training set
(the last 5,000 of Fashion-MNIST's 60,000 training images; the test set is not touched).

    python scripts/probe_bn_momentum.py 0.99 0.9 [--seed 0]

Trains BN-LeNet with d2l's LeNet recipe (SGD 0.9, batch 256, 10 epochs) once per momentum and
prints the validation accuracy per epoch. Needs the full Fashion-MNIST (CNN_COURSE_DATA_DIR).
"""

from __future__ import annotations

import argparse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("momenta", type=float, nargs="+")
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args()

    import keras

    from cnn_course import data, models
    from cnn_course.models import training

    (x, y), _ = data.load("fashion_mnist")
    x_train, y_train, x_validation, y_validation = x[:55000], y[:55000], x[55000:], y[55000:]
    for momentum in arguments.momenta:
        keras.utils.set_random_seed(arguments.seed)
        model = models.build("lenet_bn", batch_norm_momentum=momentum)
        training.compile_classifier(model, keras.optimizers.SGD(0.9))
        history = model.fit(x_train, y_train, batch_size=256, epochs=10, verbose=0,
                            validation_data=(x_validation, y_validation)).history
        print(f"momentum {momentum}: validation accuracy per epoch "
              f"{[round(value, 4) for value in history['val_accuracy']]}; final training "
              f"accuracy {history['accuracy'][-1]:.4f}")


if __name__ == "__main__":
    main()
