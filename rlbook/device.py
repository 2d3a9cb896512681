"""Which device TensorFlow will train on."""


def describe():
    """A one-line description such as 'GPU: /physical_device:GPU:0' or 'CPU only'."""
    import rlbook  # noqa: F401  (legacy Keras before TensorFlow)

    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        return "GPU: " + ", ".join(gpu.name for gpu in gpus)
    return "CPU only (TensorFlow sees no GPU)"
