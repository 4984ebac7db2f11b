"""Model builders. Every model takes raw uint8 images as `cnn_course.data.load` returns them:
rescaling (and the channel axis for MNIST) live inside the model, so a saved `.keras` file is
usable on raw data with no preprocessing code."""

from cnn_course.models.cifar10 import cifar10_base_net
from cnn_course.models.inputs import raw_image_input
from cnn_course.models.mnist import quickstart_net

__all__ = ["cifar10_base_net", "quickstart_net", "raw_image_input"]
