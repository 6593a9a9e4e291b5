"""Horizontal motion blur on a plate: how much of it a crop shows, how long it is, and its
Wiener deconvolution.

A plate passing a camera during the exposure is smeared along its rows by a line of L pixels;
the smear merges neighbouring characters, which costs reading more than blur in any other
direction (model card, "Deblur look"). Its kernel is a 1×L box, whose spectrum has zeros every
1/L cycles per pixel: the crop's cepstrum shows L as a dip, and a deconvolution with that
length undoes most of the smear.
"""

from __future__ import annotations

import cv2
import numpy as np

# Noise-to-signal ratio of the Wiener filter: lower restores more and rings more.
WIENER_NSR = 0.02
# Width (px) of the box that :func:`horizontal_blur` blurs a crop with, as in the paper.
BLUR_PROBE = 11
# Blur lengths (px) that :func:`blur_length` tells apart.
SHORTEST_BLUR, LONGEST_BLUR = 3, 25
# Rows averaged (a vertical box) before measuring: it quiets pixel noise, which would pass for
# detail along the rows, and leaves a smear along the rows as it is.
QUIET_ROWS = 5


def horizontal_blur(gray: np.ndarray, width: int = BLUR_PROBE) -> float:
    """How blurred ``gray`` is along its rows, 0 (sharp) to 1: the share of its horizontal
    pixel-to-pixel variation that survives blurring it further with a 1×``width`` box (the
    blur effect of Crété-Roffet et al., 2007, "The blur effect: perception and estimation with
    a new no-reference perceptual blur metric", horizontal part), measured on the crop with
    its rows averaged over :data:`QUIET_ROWS`. An already smeared crop loses little; a sharp
    one loses much. Blur along the columns barely changes it (gate crops: median 0.22 sharp,
    0.22 under 5 px of vertical blur, 0.49 under 9 px of horizontal blur)."""
    f = _quiet(gray)
    reblurred = cv2.blur(f, (width, 1), borderType=cv2.BORDER_REFLECT)
    d = np.abs(np.diff(f, axis=1))
    lost = np.maximum(d - np.abs(np.diff(reblurred, axis=1)), 0)
    total = float(d.sum())
    return 1.0 - float(lost.sum()) / total if total > 0 else 1.0


def blur_length(gray: np.ndarray, shortest: int = SHORTEST_BLUR,
                longest: int = LONGEST_BLUR) -> int:
    """The length (px) of horizontal motion blur on a crop known to be smeared along its rows:
    where the cepstrum of its rows' mean power spectrum (each row less its mean, Hann-windowed)
    dips between ``shortest`` and ``longest`` (at most half the crop's width). A 1×L box puts
    zeros into the spectrum every 1/L cycles per pixel, a periodic pattern in the log spectrum
    whose cepstrum is most negative at L (gate crops blurred by 5 to 15 px: within 1 px of the
    length for 99-100% of them). On a sharp crop the answer means nothing."""
    rows = _quiet(gray)
    rows -= rows.mean(axis=1, keepdims=True)
    n = rows.shape[1]
    longest = min(longest, n // 2 - 1)
    if longest < shortest:
        return shortest
    power = (np.abs(np.fft.rfft(rows * np.hanning(n).astype(np.float32), axis=1)) ** 2).mean(0)
    cepstrum = np.fft.irfft(np.log(power + 1e-3))
    return shortest + int(np.argmin(cepstrum[shortest:longest + 1]))


def deblur_horizontal(gray: np.ndarray, length: int, nsr: float = WIENER_NSR) -> np.ndarray:
    """uint8 ``gray`` with horizontal motion blur of ``length`` px undone by a Wiener filter,
    row by row; the rows are mirrored past both ends so the edges do not ring. An even length's
    box sits half a pixel off centre, as :func:`export.conditions.motion_kernel` draws it."""
    if length < 1:
        raise ValueError(f"deblur length must be at least 1 px, got {length}")
    w = gray.shape[1]
    rows = np.pad(gray.astype(np.float32), ((0, 0), (length, length)), mode="reflect")
    n = rows.shape[1]
    kernel = np.zeros(n, np.float32)
    kernel[:length] = 1 / length
    spectrum = np.fft.rfft(np.roll(kernel, -(length // 2)))
    restored = np.fft.irfft(np.fft.rfft(rows, axis=1) * np.conj(spectrum)
                            / (np.abs(spectrum) ** 2 + nsr), n=n, axis=1)
    return np.clip(np.rint(restored[:, length:length + w]), 0, 255).astype(np.uint8)


def _quiet(gray: np.ndarray) -> np.ndarray:
    return cv2.blur(gray.astype(np.float32), (1, QUIET_ROWS), borderType=cv2.BORDER_REFLECT)
