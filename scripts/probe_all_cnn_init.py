"""All-CNN's last layer and initialisation, chosen on a validation split held out from the
training set (the last 5,000 of CIFAR-10's 50,000 training images; the test set is not touched).

    python scripts/probe_all_cnn_init.py model_c relu glorot_uniform 0.001 150
    python scripts/probe_all_cnn_init.py model_c linear he_normal 0.001 150

Arguments: variant, activation of the last 1x1 conv ("relu" as Table 1 writes, or "linear"),
kernel initializer, Adam learning rate, steps of batch 128 on the first 45,000 images (seed 0).
Prints [validation loss, validation accuracy]. This is the probe behind the numbers in
`cnn_course/models/all_cnn.py`; needs the full CIFAR-10 (CNN_COURSE_DATA_DIR).
"""

import sys

import keras
from keras import layers

from cnn_course import data
from cnn_course.models import all_cnn, training

(x, y), _ = data.load("cifar10")
xt, yt, xv, yv = x[:45000], y[:45000], x[45000:], y[45000:]
variant, last_relu, init, lr, steps = (sys.argv[1], sys.argv[2] == "relu", sys.argv[3],
                                       float(sys.argv[4]), int(sys.argv[5]))


def conv(x, filters, kernel, name, strides=1, padding="same", activation="relu"):
    act = "relu" if (name != "conv3_3" or last_relu) else None
    return layers.Conv2D(filters, kernel, strides=strides, padding=padding, activation=act,
                         kernel_initializer=init, name=name)(x)


all_cnn._conv = conv  # the probe swaps the builder's conv for the configuration under test
keras.utils.set_random_seed(0)
model = all_cnn.all_cnn(variant)
training.compile_classifier(model, keras.optimizers.Adam(lr))
model.fit(xt[:128 * steps], yt[:128 * steps], batch_size=128, epochs=1, verbose=0)
print(sys.argv[1:], "val", model.evaluate(xv, yv, verbose=0, batch_size=500))
