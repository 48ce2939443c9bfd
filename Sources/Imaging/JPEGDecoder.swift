import CImageShim

/// JPEG → RGB through libjpeg-turbo, with the settings and colour conversions of PIL's JPEG plugin.
enum JPEGDecoder {
    static func decode(_ bytes: [UInt8], file: String, maxPixels: Int = RGBImage.maxPixels) throws -> RGBImage {
        try bytes.withUnsafeBufferPointer { data in
            guard let decoder = effnet_jpeg_open(data.baseAddress, data.count) else {
                throw ImageError.unsupportedImage(file: file, detail: "out of memory creating the JPEG decoder")
            }
            defer { effnet_jpeg_close(decoder) }
            var header = effnet_jpeg_header()
            guard effnet_jpeg_read_header(decoder, &header) == 1 else { throw failure(decoder, file: file) }
            let width = Int(header.width)
            let height = Int(header.height)
            try RGBImage.checkSize(width: width, height: height, file: file, maxPixels: maxPixels)
            // PIL opens 4-component JPEGs as CMYK (libjpeg converts YCCK to CMYK) and everything else as L or RGB.
            let cmyk = header.components == 4
            let channels = cmyk ? 4 : 3
            let raw = try [UInt8](unsafeUninitializedCapacity: width * height * channels) { buffer, count in
                let ok = effnet_jpeg_decode(decoder, cmyk ? 1 : 0, buffer.baseAddress, width * channels, buffer.count)
                guard ok == 1 else { throw failure(decoder, file: file) }
                count = buffer.count
            }
            // libjpeg pads a truncated stream with gray and only warns; PIL refuses it ("image file is truncated").
            // Other warnings (corrupt data libjpeg recovered from) are accepted, as PIL accepts them.
            if effnet_jpeg_truncated(decoder) != 0 {
                throw ImageError.truncated(file: file, format: "JPEG", detail: message(decoder))
            }
            return RGBImage(width: width, height: height, pixels: cmyk ? cmykToRGB(raw) : raw)
        }
    }

    private static func message(_ decoder: OpaquePointer) -> String {
        let text = String(cString: effnet_jpeg_message(decoder))
        return text.isEmpty ? "libjpeg gave no message" : text
    }

    private static func failure(_ decoder: OpaquePointer, file: String) -> ImageError {
        if effnet_jpeg_truncated(decoder) != 0 {
            return .truncated(file: file, format: "JPEG", detail: message(decoder))
        }
        return .corrupt(file: file, format: "JPEG", detail: message(decoder))
    }

    /// PIL's CMYK → RGB: the stored samples are Adobe-inverted (PIL's raw mode `CMYK;I`), so with c = 255 − stored
    /// and n = 255 − k, each channel is `n − round(c·n / 255)`, where the division is PIL's `MULDIV255`
    /// ((t + (t >> 8)) >> 8 with t = c·n + 128), exact for 8-bit operands.
    static func cmykToRGB(_ cmyk: [UInt8]) -> [UInt8] {
        let n = cmyk.count / 4
        return [UInt8](unsafeUninitializedCapacity: n * 3) { out, count in
            cmyk.withUnsafeBufferPointer { src in
                for i in 0..<n {
                    let nk = Int(src[4 * i + 3])  // 255 − (255 − stored k)
                    for c in 0..<3 {
                        let t = (255 - Int(src[4 * i + c])) * nk + 128
                        out[3 * i + c] = UInt8(clamping: nk - ((t >> 8) + t) >> 8)
                    }
                }
            }
            count = n * 3
        }
    }
}
