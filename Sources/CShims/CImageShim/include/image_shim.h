// setjmp-guarded entry points into libjpeg and libpng.
//
// Both libraries report fatal errors by calling an error handler that must not return; the only way back is
// longjmp, which Swift cannot do (it would skip Swift frames). Each function here installs a jump target, calls
// the library, and turns a fatal error into a 0 return with the library's message kept in the decoder object.
// Policy (which colour conversions, what counts as truncated) stays in Swift (Sources/Imaging).
#ifndef EFFNET_IMAGE_SHIM_H
#define EFFNET_IMAGE_SHIM_H

#include <stddef.h>
#include <stdint.h>

typedef struct effnet_jpeg effnet_jpeg;
typedef struct effnet_png effnet_png;

/// What the JPEG header says; `color_space` is libjpeg's J_COLOR_SPACE of the file (1 gray, 2 RGB, 3 YCbCr,
/// 4 CMYK, 5 YCCK).
typedef struct {
    int width, height, components, color_space;
} effnet_jpeg_header;

/// Reads from `data` (not copied: it must outlive the decoder). NULL only when out of memory.
effnet_jpeg *effnet_jpeg_open(const uint8_t *data, size_t size);
void effnet_jpeg_close(effnet_jpeg *decoder);
/// 1 on success, 0 on a fatal error (see effnet_jpeg_message).
int effnet_jpeg_read_header(effnet_jpeg *decoder, effnet_jpeg_header *header);
/// Decodes every scanline as RGB (cmyk = 0) or as the file's CMYK/YCCK converted to CMYK (cmyk = 1) into
/// `pixels` (`height` rows of `row_bytes`). 1 on success, 0 on a fatal error.
int effnet_jpeg_decode(effnet_jpeg *decoder, int cmyk, uint8_t *pixels, size_t row_bytes, size_t size);
/// The fatal error's message, else the first warning's, else "".
const char *effnet_jpeg_message(const effnet_jpeg *decoder);
/// Number of warnings (corrupt data libjpeg recovered from); `truncated` is 1 when the data ended early.
int effnet_jpeg_warnings(const effnet_jpeg *decoder);
int effnet_jpeg_truncated(const effnet_jpeg *decoder);

/// What the PNG header says (PNG colour type: 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA).
typedef struct {
    int width, height, bit_depth, color_type, interlaced;
} effnet_png_header;

effnet_png *effnet_png_open(const uint8_t *data, size_t size);
void effnet_png_close(effnet_png *decoder);
int effnet_png_read_header(effnet_png *decoder, effnet_png_header *header);
/// Expands palettes and 1/2/4-bit gray to 8 bits, drops alpha (palette tRNS included), keeps 16-bit samples
/// unless `strip16`, handles interlacing, and reads the whole image into `pixels`. `channels` and `bit_depth`
/// receive the layout written (1 or 3 channels, 8 or 16 bits, 16-bit samples big-endian). 1 on success.
int effnet_png_decode(effnet_png *decoder, int strip16, uint8_t *pixels, size_t row_bytes, size_t size,
                      int *channels, int *bit_depth);
const char *effnet_png_message(const effnet_png *decoder);
int effnet_png_truncated(const effnet_png *decoder);

#endif
