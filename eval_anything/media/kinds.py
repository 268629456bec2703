"""What the media readers agree on: which files are images, and the frame rate of a folder of
frame images whose part gives none."""

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp"}
#: Frame rate of a folder of frame images whose part gives no ``fps``
#: (see eval_anything.media.video).
FRAME_FOLDER_FPS = 1.0
