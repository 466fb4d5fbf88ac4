"""Where the real Sentinel-2 L2A series over Bolzano lies: the project's copy (data/, with its README
and checksums), else the shared one beside the project; None when neither is there."""
import os


def series_folder(source_dir):
    for folder in (os.path.join(source_dir, "data", "sentinel2-l2a-bolzano-2022-06"),
                   os.path.join(os.path.dirname(source_dir), "shared", "data", "sentinel2-l2a-bolzano-2022-06")):
        if os.path.isdir(folder):
            return folder
    return None
