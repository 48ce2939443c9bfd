import CImageShim

/// PNG → RGB through libpng, reproducing PIL's `Image.open(path).convert("RGB")` for every PNG colour type.
enum PNGDecoder {
    /// libpng's default `png_user_width_max` / `png_user_height_max`.
    static let pngSideLimit = 1_000_000

    static func decode(_ bytes: [UInt8], file: String, maxPixels: Int = RGBImage.maxPixels) throws -> RGBImage {
        // libpng refuses a width or height over 1,000,000 (its default user limit) with "Invalid IHDR data": say
        // that the image is too large, not corrupt. IHDR is the first chunk: width and height at bytes 16 and 20, its
        // CRC-32 at 29 (a header whose CRC fails is corrupt, whatever size it claims).
        if bytes.count >= 33, bytes[12..<16].elementsEqual("IHDR".utf8), ihdrCRCMatches(bytes) {
            let be = { (at: Int) in bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
            let (width, height) = (be(16), be(20))
            if width > pngSideLimit || height > pngSideLimit {
                throw ImageError.unsupportedImage(
                    file: file,
                    detail: "too large: \(width)x\(height) pixels; PNG sides are limited to \(pngSideLimit) (libpng's limit)")
            }
        }
        return try bytes.withUnsafeBufferPointer { data in
            guard let decoder = effnet_png_open(data.baseAddress, data.count) else {
                throw ImageError.unsupportedImage(file: file, detail: "out of memory creating the PNG decoder")
            }
            defer { effnet_png_close(decoder) }
            var header = effnet_png_header()
            guard effnet_png_read_header(decoder, &header) == 1 else { throw failure(decoder, file: file) }
            let width = Int(header.width)
            let height = Int(header.height)
            try RGBImage.checkSize(width: width, height: height, file: file, maxPixels: maxPixels)
            // Gray and gray+alpha come out as one channel; palette, RGB and RGBA as three (alpha stripped).
            let gray = header.color_type == 0 || header.color_type == 4
            // 16-bit gray without alpha is PIL mode I;16, clipped (not scaled) to 0…255 by convert("RGB");
            // every other 16-bit layout keeps the high byte (PIL raw modes RGB;16B, LA;16B, RGBA;16B).
            let clip16 = header.color_type == 0 && header.bit_depth == 16
            let channels = gray ? 1 : 3
            let sampleBytes = clip16 ? 2 : 1
            let rowBytes = width * channels * sampleBytes
            var outChannels: Int32 = 0
            var outDepth: Int32 = 0
            let raw = try [UInt8](unsafeUninitializedCapacity: rowBytes * height) { buffer, count in
                let ok = effnet_png_decode(
                    decoder, clip16 ? 0 : 1, buffer.baseAddress, rowBytes, buffer.count, &outChannels, &outDepth)
                guard ok == 1 else { throw failure(decoder, file: file) }
                count = buffer.count
            }
            guard Int(outChannels) == channels, Int(outDepth) == sampleBytes * 8 else {
                throw ImageError.unsupportedImage(
                    file: file,
                    detail: "PNG colour type \(header.color_type) at \(header.bit_depth) bits decoded to "
                        + "\(outChannels) channels of \(outDepth) bits")
            }
            if !gray { return RGBImage(width: width, height: height, pixels: raw) }
            let n = width * height
            let rgb = [UInt8](unsafeUninitializedCapacity: n * 3) { out, count in
                raw.withUnsafeBufferPointer { src in
                    for i in 0..<n {
                        let v = clip16 ? UInt8(clamping: Int(src[2 * i]) << 8 | Int(src[2 * i + 1])) : src[i]
                        out[3 * i] = v
                        out[3 * i + 1] = v
                        out[3 * i + 2] = v
                    }
                }
                count = n * 3
            }
            return RGBImage(width: width, height: height, pixels: rgb)
        }
    }

    /// Whether the IHDR chunk's CRC-32 (over its type and 13 data bytes, bytes 12..<29) matches bytes 29..<33.
    static func ihdrCRCMatches(_ bytes: [UInt8]) -> Bool {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes[12..<29] {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        let stored = bytes[29..<33].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        return ~crc == stored
    }

    private static func failure(_ decoder: OpaquePointer, file: String) -> ImageError {
        let text = String(cString: effnet_png_message(decoder))
        let detail = text.isEmpty ? "libpng gave no message" : text
        if effnet_png_truncated(decoder) != 0 { return .truncated(file: file, format: "PNG", detail: detail) }
        return .corrupt(file: file, format: "PNG", detail: detail)
    }
}
