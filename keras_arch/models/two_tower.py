"""Cross-modal learning, document 004 §3.2 and §4.2, corrected.

The document's CrossModalLearning projects both features to 128, concatenates
them (256 wide) and feeds a Linear(128, 64): it fails on its first call. Its
similarity is the fused matrix times its own transpose, which has no image
side and no text side. Here:

- an image tower (a small CNN) and a text tower (in-graph TextVectorization,
  Embedding, masked mean pooling) each end in a projection into one shared
  ``embed_dim`` space;
- ``similarity``: the (images, captions) cosine matrix with a learned
  temperature, trained with symmetric InfoNCE (see training/crossmodal.py);
- ``digit``: the document's weighted fusion f(x, y) = Σ α f_j(x) + Σ β f_k(y)
  over two image features and two text features, then a softmax classifier.
"""
from keras_arch.backend import keras
from keras_arch.layers.contrastive_similarity import ContrastiveSimilarity
from keras_arch.layers.masked_mean import MaskedMean
from keras_arch.layers.weighted_fusion import WeightedFusion


def image_tower(image_shape, embed_dim=64):
    """image -> [pooled conv features (batch, 64), embedding (batch, embed_dim)]."""
    image = keras.Input(image_shape, name="image")
    x = keras.layers.Conv2D(32, 3, activation="relu", padding="same")(image)
    x = keras.layers.MaxPooling2D()(x)  # (batch, 14, 14, 32)
    x = keras.layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    x = keras.layers.MaxPooling2D()(x)  # (batch, 7, 7, 64)
    x = keras.layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    pooled = keras.layers.GlobalAveragePooling2D()(x)  # (batch, 64)
    embedding = keras.layers.Dense(embed_dim, name="image_embedding")(
        keras.layers.Dense(128, activation="relu")(pooled))
    return keras.Model(image, [pooled, embedding], name="image_tower")


def text_tower(vocabulary, caption_length=10, embed_dim=64, token_dim=32):
    """caption strings -> [mean token embedding (batch, token_dim), embedding (batch, embed_dim)]."""
    caption = keras.Input((), dtype="string", name="caption")
    ids = keras.layers.TextVectorization(vocabulary=list(vocabulary), output_sequence_length=caption_length,
                                         name="tokenize")(caption)  # (batch, caption_length); 0 pad, 1 OOV
    tokens = keras.layers.Embedding(len(vocabulary) + 2, token_dim, mask_zero=True)(ids)
    pooled = MaskedMean(name="pool")(tokens)  # mean over real tokens (zeros for a caption with none), (batch, token_dim)
    embedding = keras.layers.Dense(embed_dim, name="text_embedding")(
        keras.layers.Dense(128, activation="relu")(pooled))
    return keras.Model(caption, [pooled, embedding], name="text_tower")


def two_tower(image_shape, vocabulary, caption_length=10, num_classes=10, embed_dim=64, fusion_units=64):
    """{"image", "caption"} -> {"similarity": (batch, batch) logits, "digit": (batch, classes)}."""
    image = keras.Input(image_shape, name="image")
    caption = keras.Input((), dtype="string", name="caption")
    image_pooled, image_embedding = image_tower(image_shape, embed_dim)(image)
    text_pooled, text_embedding = text_tower(vocabulary, caption_length, embed_dim)(caption)
    similarity = ContrastiveSimilarity(dtype="float32", name="similarity")(  # logits and temperature in float32
        [image_embedding, text_embedding])
    fused = WeightedFusion(fusion_units, num_image_features=2, name="fusion")(
        [image_pooled, image_embedding, text_pooled, text_embedding])  # (batch, fusion_units)
    digit = keras.layers.Dense(num_classes, activation="softmax", dtype="float32", name="digit")(fused)
    return keras.Model({"image": image, "caption": caption}, {"similarity": similarity, "digit": digit},
                       name="two_tower")
