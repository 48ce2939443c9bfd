/// The EXIF orientation of a JPEG or PNG file (TIFF tag 0x0112), read as PIL's `Image.getexif()` reads it, so that
/// `RGBImage.exifTransposed` matches `ImageOps.exif_transpose`.
///
/// Where it is read from: a JPEG's APP1 segments that start with `Exif\0\0` (before the first SOS; several are
/// concatenated, as PIL does), or a PNG's first `eXIf` chunk. The payload is a TIFF header (`II*\0` or `MM\0*`)
/// whose IFD0 offset is followed; in IFD0 the last Orientation entry holding a SHORT, LONG, SSHORT or SLONG wins (its first value if it has
/// several, as PIL keeps the first).
///
/// Every offset is checked against the bytes present: the file is hostile input. Anything malformed — a bad TIFF
/// header, an IFD0 offset past the end, a truncated entry, a value outside 1…8, values stored past the end — yields
/// orientation 1 (leave the image as decoded). That is what `exif_transpose` does with a truncated IFD (PIL warns
/// and keeps the entries read so far) or an unknown value; for a bad TIFF header PIL's JPEG opener swallows the
/// parse error while reading the resolution, after which `getexif()` is empty, so the result is the same.
public enum EXIFOrientation {
    /// The orientation (1…8) the file's EXIF asks for; 1 when it has none or it is malformed.
    public static func read(_ bytes: [UInt8]) -> Int {
        switch ImageFormat.detect(bytes) {
        case .jpeg: return jpegPayload(bytes).map(fromTIFF) ?? 1
        case .png: return pngPayload(bytes).map(fromTIFF) ?? 1
        case nil: return 1
        }
    }

    /// The TIFF bytes of every APP1 `Exif\0\0` segment before the scan data, concatenated.
    static func jpegPayload(_ b: [UInt8]) -> ArraySlice<UInt8>? {
        var payload: [UInt8]? = nil
        var i = 2  // after SOI
        while i + 1 < b.count {
            guard b[i] == 0xFF else { break }
            let marker = b[i + 1]
            if marker == 0xFF {  // fill byte
                i += 1
                continue
            }
            if marker == 0xD9 || marker == 0xDA { break }  // EOI, SOS: no more header segments
            if marker == 0x01 || (0xD0...0xD7).contains(marker) {  // no length
                i += 2
                continue
            }
            guard i + 3 < b.count else { break }
            let length = Int(b[i + 2]) << 8 | Int(b[i + 3])
            guard length >= 2, length <= b.count - (i + 2) else { break }
            let data = b[(i + 4)..<(i + 2 + length)]
            if marker == 0xE1, data.starts(with: exifPrefix) {
                if payload == nil {
                    payload = Array(data.dropFirst(6))
                } else {
                    payload!.append(contentsOf: data.dropFirst(6))
                }
            }
            i += 2 + length
        }
        guard var p = payload?[...] else { return nil }
        if p.starts(with: exifPrefix) { p = p.dropFirst(6) }  // PIL strips a doubled prefix too
        return p
    }

    /// The first `eXIf` chunk's data (an optional `Exif\0\0` prefix removed).
    static func pngPayload(_ b: [UInt8]) -> ArraySlice<UInt8>? {
        var i = 8  // after the signature
        while i <= b.count - 12 {
            let length = Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3])
            guard length <= b.count - 12 - i else { return nil }
            let type = b[(i + 4)..<(i + 8)]
            if type.elementsEqual(Array("eXIf".utf8)) {
                var data = b[(i + 8)..<(i + 8 + length)]
                while data.starts(with: exifPrefix) { data = data.dropFirst(6) }
                return data
            }
            if type.elementsEqual(Array("IEND".utf8)) { return nil }
            i += 12 + length
        }
        return nil
    }

    static let exifPrefix: [UInt8] = Array("Exif".utf8) + [0, 0]

    /// Orientation from a TIFF structure (header, IFD0); 1 when absent or malformed.
    static func fromTIFF(_ tiff: ArraySlice<UInt8>) -> Int {
        let t = Array(tiff)
        guard t.count >= 8 else { return 1 }
        let little: Bool
        switch (t[0], t[1], t[2], t[3]) {
        case (0x49, 0x49, 0x2A, 0x00): little = true
        case (0x4D, 0x4D, 0x00, 0x2A): little = false
        default: return 1
        }
        func u16(_ o: Int) -> Int {
            little ? Int(t[o]) | Int(t[o + 1]) << 8 : Int(t[o]) << 8 | Int(t[o + 1])
        }
        func u32(_ o: Int) -> Int { little ? u16(o) | u16(o + 2) << 16 : u16(o) << 16 | u16(o + 2) }
        let ifd = u32(4)
        guard ifd <= t.count - 2 else { return 1 }
        let entries = u16(ifd)
        var orientation = 1
        for n in 0..<entries {
            let e = ifd + 2 + 12 * n
            guard e <= t.count - 12 else { break }  // truncated: keep what was read (PIL warns likewise)
            guard u16(e) == 0x0112 else { continue }
            let type = u16(e + 2)
            let unit: Int
            switch type {
            case 3, 8: unit = 2  // SHORT, SSHORT
            case 4, 9: unit = 4  // LONG, SLONG
            default: continue
            }
            // Several values: PIL keeps the first (with a warning). Over 4 bytes they sit at an offset; an entry
            // whose values run past the end is skipped, as PIL skips it.
            let count = u32(e + 4)
            guard count >= 1 else { continue }
            var at = e + 8
            if count * unit > 4 {
                at = u32(e + 8)
                guard at <= t.count - count * unit else { continue }
            }
            let value: Int
            switch type {
            case 3: value = u16(at)
            case 8: value = Int(Int16(truncatingIfNeeded: u16(at)))
            case 4: value = u32(at)
            default: value = Int(Int32(truncatingIfNeeded: u32(at)))
            }
            orientation = value
        }
        return (1...8).contains(orientation) ? orientation : 1
    }
}

extension RGBImage {
    /// This image as EXIF orientation `orientation` says it should be shown: PIL's `exif_transpose` mapping
    /// (2 mirror left-right, 3 rotate 180°, 4 mirror top-bottom, 5 transpose, 6 rotate 90° clockwise, 7 transverse,
    /// 8 rotate 90° counter-clockwise); 1 or any other value leaves it unchanged. 5…8 swap width and height.
    public func oriented(_ orientation: Int) -> RGBImage {
        let w = width
        let h = height
        // Output pixel (x, y) comes from input pixel number base + x·dx + y·dy.
        let (base, dx, dy): (Int, Int, Int)
        switch orientation {
        case 2: (base, dx, dy) = (w - 1, -1, w)
        case 3: (base, dx, dy) = ((h - 1) * w + w - 1, -1, -w)
        case 4: (base, dx, dy) = ((h - 1) * w, 1, -w)
        case 5: (base, dx, dy) = (0, w, 1)
        case 6: (base, dx, dy) = ((h - 1) * w, -w, 1)
        case 7: (base, dx, dy) = ((h - 1) * w + w - 1, -w, -1)
        case 8: (base, dx, dy) = (w - 1, w, -1)
        default: return self
        }
        let (ow, oh) = orientation >= 5 ? (h, w) : (w, h)
        var out = [UInt8](repeating: 0, count: pixels.count)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                var o = 0
                for y in 0..<oh {
                    var s = base + y * dy
                    for _ in 0..<ow {
                        dst[o] = src[3 * s]
                        dst[o + 1] = src[3 * s + 1]
                        dst[o + 2] = src[3 * s + 2]
                        o += 3
                        s += dx
                    }
                }
            }
        }
        return RGBImage(width: ow, height: oh, pixels: out)
    }

    /// Decodes `bytes` and applies their EXIF orientation (`EXIFOrientation.read`), as
    /// `ImageOps.exif_transpose(Image.open(path)).convert("RGB")` does.
    public init(decodingAndOrienting bytes: [UInt8], file: String = "<memory>", maxPixels: Int = RGBImage.maxPixels)
        throws
    {
        self = try RGBImage(decoding: bytes, file: file, maxPixels: maxPixels).oriented(EXIFOrientation.read(bytes))
    }
}
