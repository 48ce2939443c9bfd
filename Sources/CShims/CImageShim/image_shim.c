// See include/image_shim.h. The only C in Imaging: jump targets for libjpeg's and libpng's fatal errors.
#include "image_shim.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

struct effnet_jpeg {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_error_mgr err;
    jmp_buf jump;
    int created, failed, warnings, truncated;
    char message[JMSG_LENGTH_MAX];
};

static void jpeg_fatal(j_common_ptr cinfo) {
    effnet_jpeg *d = (effnet_jpeg *)cinfo->client_data;
    cinfo->err->format_message(cinfo, d->message);
    longjmp(d->jump, 1);
}

static void jpeg_note(j_common_ptr cinfo, int level) {
    effnet_jpeg *d = (effnet_jpeg *)cinfo->client_data;
    if (level >= 0) return;  // trace output
    if (cinfo->err->msg_code == JWRN_JPEG_EOF) d->truncated = 1;
    if (d->warnings++ == 0) cinfo->err->format_message(cinfo, d->message);
}

effnet_jpeg *effnet_jpeg_open(const uint8_t *data, size_t size) {
    effnet_jpeg *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->cinfo.err = jpeg_std_error(&d->err);
    d->err.error_exit = jpeg_fatal;
    d->err.emit_message = jpeg_note;
    d->cinfo.client_data = d;
    if (setjmp(d->jump)) {  // the message is kept; read_header reports it
        d->failed = 1;
        return d;
    }
    jpeg_create_decompress(&d->cinfo);
    d->created = 1;
    jpeg_mem_src(&d->cinfo, data, (unsigned long)size);
    return d;
}

void effnet_jpeg_close(effnet_jpeg *d) {
    if (!d) return;
    if (d->created) jpeg_destroy_decompress(&d->cinfo);
    free(d);
}

int effnet_jpeg_read_header(effnet_jpeg *d, effnet_jpeg_header *h) {
    if (!d->created || d->failed || setjmp(d->jump)) return 0;
    jpeg_read_header(&d->cinfo, TRUE);
    h->width = (int)d->cinfo.image_width;
    h->height = (int)d->cinfo.image_height;
    h->components = d->cinfo.num_components;
    h->color_space = (int)d->cinfo.jpeg_color_space;
    return 1;
}

int effnet_jpeg_decode(effnet_jpeg *d, int cmyk, uint8_t *pixels, size_t row_bytes, size_t size) {
    if (!d->created || d->failed || setjmp(d->jump)) return 0;
    d->cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    d->cinfo.dct_method = JDCT_ISLOW;  // what PIL uses outside draft mode
    d->cinfo.do_fancy_upsampling = TRUE;
    jpeg_start_decompress(&d->cinfo);
    size_t need = (size_t)d->cinfo.output_width * (size_t)d->cinfo.output_components;
    if (need > row_bytes || (size_t)d->cinfo.output_height * row_bytes > size) {
        strcpy(d->message, "output buffer too small");
        return 0;
    }
    while (d->cinfo.output_scanline < d->cinfo.output_height) {
        JSAMPROW row = pixels + (size_t)d->cinfo.output_scanline * row_bytes;
        jpeg_read_scanlines(&d->cinfo, &row, 1);
    }
    return 1;
}

const char *effnet_jpeg_message(const effnet_jpeg *d) { return d->message; }
int effnet_jpeg_warnings(const effnet_jpeg *d) { return d->warnings; }
int effnet_jpeg_truncated(const effnet_jpeg *d) { return d->truncated; }

struct effnet_png {
    png_structp png;
    png_infop info;
    const uint8_t *data;
    size_t size, offset;
    png_bytepp rows;  // freed in close, so a longjmp out of png_read_image cannot leak it
    int truncated;
    char message[256];
};

static void png_fatal(png_structp png, png_const_charp message) {
    effnet_png *p = (effnet_png *)png_get_error_ptr(png);
    snprintf(p->message, sizeof p->message, "%s", message);
    png_longjmp(png, 1);
}

static void png_quiet(png_structp png, png_const_charp message) { (void)png, (void)message; }

static void png_read_memory(png_structp png, png_bytep out, size_t count) {
    effnet_png *p = (effnet_png *)png_get_io_ptr(png);
    if (count > p->size - p->offset) {
        p->truncated = 1;
        png_error(png, "unexpected end of data");
    }
    memcpy(out, p->data + p->offset, count);
    p->offset += count;
}

effnet_png *effnet_png_open(const uint8_t *data, size_t size) {
    effnet_png *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->data = data;
    p->size = size;
    p->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, p, png_fatal, png_quiet);
    if (p->png) p->info = png_create_info_struct(p->png);
    if (!p->png || !p->info) strcpy(p->message, "cannot create libpng decoder");
    else {
        png_set_read_fn(p->png, p, png_read_memory);
        /* libpng allocates (and clears) a text, ICC, eXIf, sPLT, pCAL or sCAL chunk at its declared length
           before reading it, and its 8 MB chunk limit is only a warning: a 6 KB PNG declaring a 1.7 GB iTXt
           chunk once took 1.7 GB. effnet uses none of them (ICC profiles are ignored as PIL ignores them; EXIF
           orientation is parsed from the file's bytes), so libpng skips them, reading in small pieces. */
        static const png_byte skipped[] = "iCCP\0tEXt\0zTXt\0iTXt\0sPLT\0eXIf\0pCAL\0sCAL";
        png_set_keep_unknown_chunks(p->png, PNG_HANDLE_CHUNK_NEVER, skipped, 8);
    }
    return p;
}

void effnet_png_close(effnet_png *p) {
    if (!p) return;
    free(p->rows);
    if (p->png) png_destroy_read_struct(&p->png, p->info ? &p->info : NULL, NULL);
    free(p);
}

int effnet_png_read_header(effnet_png *p, effnet_png_header *h) {
    if (!p->info || setjmp(png_jmpbuf(p->png))) return 0;
    png_read_info(p->png, p->info);
    h->width = (int)png_get_image_width(p->png, p->info);
    h->height = (int)png_get_image_height(p->png, p->info);
    h->bit_depth = png_get_bit_depth(p->png, p->info);
    h->color_type = png_get_color_type(p->png, p->info);
    h->interlaced = png_get_interlace_type(p->png, p->info) != PNG_INTERLACE_NONE;
    return 1;
}

int effnet_png_decode(effnet_png *p, int strip16, uint8_t *pixels, size_t row_bytes, size_t size,
                      int *channels, int *bit_depth) {
    if (!p->info || setjmp(png_jmpbuf(p->png))) return 0;
    int type = png_get_color_type(p->png, p->info);
    if (type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(p->png);
    if (type == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(p->png, p->info) < 8) png_set_expand_gray_1_2_4_to_8(p->png);
    if (strip16) png_set_strip_16(p->png);
    png_set_strip_alpha(p->png);
    png_set_interlace_handling(p->png);
    png_read_update_info(p->png, p->info);
    *channels = png_get_channels(p->png, p->info);
    *bit_depth = png_get_bit_depth(p->png, p->info);
    png_uint_32 height = png_get_image_height(p->png, p->info);
    if (png_get_rowbytes(p->png, p->info) > row_bytes || (size_t)height * row_bytes > size)
        png_error(p->png, "output buffer too small");
    free(p->rows);
    p->rows = malloc((height ? height : 1) * sizeof(png_bytep));
    if (!p->rows) png_error(p->png, "out of memory");
    for (png_uint_32 y = 0; y < height; y++) p->rows[y] = pixels + (size_t)y * row_bytes;
    png_read_image(p->png, p->rows);
    return 1;
}

const char *effnet_png_message(const effnet_png *p) { return p->message; }
int effnet_png_truncated(const effnet_png *p) { return p->truncated; }
