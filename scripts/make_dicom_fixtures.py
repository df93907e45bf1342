#!/usr/bin/env python3
"""Developer tool: writes the small synthetic DICOM fixtures of Tests/ImagingTests/Fixtures.

Not run by the tests (they need no Python). Requires pydicom (`pip install pydicom`).
The shared sample DICOM is JPEG-compressed; these cover the uncompressed transfer syntaxes:
12-bit-in-16 with a VOI window, the same stored values tagged MONOCHROME1, and 8-bit implicit VR;
and a multi-frame file (ten 64x64 frames), whose frames x rows x columns a decoder must bound.
"""
import pathlib

import numpy as np
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid, SecondaryCaptureImageStorage

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "ImagingTests" / "Fixtures"


def write(name: str, pixels: np.ndarray, photometric: str, bits: int, syntax, window=None, frames: int = 1) -> None:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = syntax
    ds = FileDataset(str(OUT / name), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "OT"
    ds.Rows, ds.Columns = pixels.shape[-2:]
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = 8 if bits == 8 else 16
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 0
    if window:
        ds.WindowCenter, ds.WindowWidth = window
    ds.PixelData = pixels.astype(np.uint8 if bits == 8 else np.uint16).tobytes()
    ds.save_as(OUT / name, enforce_file_format=True)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    # A horizontal ramp 0..4000 in 12 bits: bright on the right in MONOCHROME2.
    ramp = np.tile(np.linspace(0, 4000, 64).round(), (48, 1))
    write("ramp12_mono2.dcm", ramp, "MONOCHROME2", 12, ExplicitVRLittleEndian, window=(2000, 4000))
    write("ramp12_mono1.dcm", ramp, "MONOCHROME1", 12, ExplicitVRLittleEndian, window=(2000, 4000))
    write("ramp8_implicit.dcm", np.tile(np.arange(0, 256, 4), (32, 1)), "MONOCHROME2", 8, ImplicitVRLittleEndian)
    frames = np.stack([np.tile(np.arange(0, 256, 4), (64, 1)) // (f + 1) for f in range(10)])
    write("frames10_64x64.dcm", frames, "MONOCHROME2", 8, ExplicitVRLittleEndian, frames=10)


if __name__ == "__main__":
    main()
