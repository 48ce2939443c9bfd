import IR

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension RGBImage {
    /// Largest image decoded, in pixels: PIL's decompression-bomb limit (2 × `Image.MAX_IMAGE_PIXELS`), past
    /// which PIL refuses to open a file too.
    public static let maxPixels = 2 * 89_478_485

    /// Decodes a JPEG or PNG file (the format comes from the content, not the extension) into 8-bit RGB exactly
    /// as PIL's `Image.open(path).convert("RGB")` does.
    ///
    /// - JPEG (libjpeg-turbo, accurate integer IDCT, fancy upsampling — PIL's settings): grayscale is replicated to
    ///   RGB, CMYK/YCCK is read with Adobe polarity and converted by PIL's formula. EXIF orientation is ignored,
    ///   as it is by `Image.open` and therefore by torchvision's and timm's loaders.
    /// - PNG (libpng): palettes expanded, alpha and tRNS transparency dropped (not composited), 16-bit samples
    ///   reduced to their high byte — except 16-bit grayscale without alpha, which PIL opens as mode `I;16` and
    ///   *clips* to 0…255 on conversion; effnet does the same so that inputs match PyTorch pipelines. Gamma, sBIT
    ///   and ICC profiles are ignored, as PIL ignores them.
    ///
    /// Errors (`ImageError`) name `path`: unreadable, empty, another image format, not an image, truncated,
    /// corrupt.
    public init(contentsOf path: String) throws {
        let bytes = try RGBImage.readFile(path)
        try self.init(decoding: bytes, file: path)
    }

    /// Decodes JPEG or PNG bytes; `file` is the name used in errors. An image of more than `maxPixels` (at most
    /// `RGBImage.maxPixels`; `run --max-pixels`) is refused from the decoder's header, before pixels are allocated.
    public init(decoding bytes: [UInt8], file: String = "<memory>", maxPixels: Int = RGBImage.maxPixels) throws {
        if bytes.isEmpty { throw ImageError.empty(file: file) }
        switch ImageFormat.detect(bytes) {
        case .jpeg: self = try JPEGDecoder.decode(bytes, file: file, maxPixels: maxPixels)
        case .png: self = try PNGDecoder.decode(bytes, file: file, maxPixels: maxPixels)
        case nil:
            if let other = ImageFormat.otherFormat(bytes) {
                throw ImageError.unsupportedFormat(file: file, format: other)
            }
            throw ImageError.notAnImage(file: file, start: ImageFormat.describeStart(bytes))
        }
    }

    /// Checks decoded dimensions against `maxPixels` before any pixel memory is allocated.
    static func checkSize(width: Int, height: Int, file: String, maxPixels limit: Int = maxPixels) throws {
        if width <= 0 || height <= 0 {
            throw ImageError.unsupportedImage(file: file, detail: "image has no pixels (\(width)x\(height))")
        }
        let pixels = width.multipliedReportingOverflow(by: height)
        if pixels.overflow || pixels.partialValue > min(limit, maxPixels) {
            throw ImageError.unsupportedImage(
                file: file,
                detail: limit < maxPixels
                    ? "\(width)x\(height) is more than --max-pixels \(limit)"
                    : "\(width)x\(height) is more than \(maxPixels) pixels (PIL's decompression-bomb limit)")
        }
    }

    /// Reads a whole image file.
    static func readFile(_ path: String) throws -> [UInt8] {
        // A regular file only (`RegularFile`: a FIFO would block, /dev/zero would never end), and no larger than
        // an image within `maxPixels` could be stored in (≈ 4 bytes per pixel uncompressed, plus slack).
        do {
            return try RegularFile.readAll(path, limit: 4 * maxPixels + (1 << 20))
        } catch {
            throw ImageError.unreadable(file: path, reason: error.reason)
        }
    }
}
