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

    /// Decodes JPEG or PNG bytes; `file` is the name used in errors.
    public init(decoding bytes: [UInt8], file: String = "<memory>") throws {
        if bytes.isEmpty { throw ImageError.empty(file: file) }
        switch ImageFormat.detect(bytes) {
        case .jpeg: self = try JPEGDecoder.decode(bytes, file: file)
        case .png: self = try PNGDecoder.decode(bytes, file: file)
        case nil:
            if let other = ImageFormat.otherFormat(bytes) {
                throw ImageError.unsupportedFormat(file: file, format: other)
            }
            throw ImageError.notAnImage(file: file, start: ImageFormat.describeStart(bytes))
        }
    }

    /// Checks decoded dimensions against `maxPixels` before any pixel memory is allocated.
    static func checkSize(width: Int, height: Int, file: String) throws {
        if width <= 0 || height <= 0 {
            throw ImageError.unsupportedImage(file: file, detail: "image has no pixels (\(width)x\(height))")
        }
        if width.multipliedReportingOverflow(by: height).partialValue > maxPixels {
            throw ImageError.unsupportedImage(
                file: file,
                detail: "\(width)x\(height) is more than \(maxPixels) pixels (PIL's decompression-bomb limit)")
        }
    }

    /// Reads a whole file with POSIX calls so that the error is the system's short reason ("No such file or
    /// directory", "Is a directory").
    static func readFile(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY)
        if fd < 0 { throw ImageError.unreadable(file: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) != 0 { throw ImageError.unreadable(file: path, reason: String(cString: strerror(errno))) }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw ImageError.unreadable(file: path, reason: "is a directory") }
        var bytes = [UInt8]()
        bytes.reserveCapacity(Int(max(info.st_size, 0)))
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ImageError.unreadable(file: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return bytes
    }
}
