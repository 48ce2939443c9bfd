import Foundation
import Testing

@testable import Imaging

/// Decoding against PIL's `Image.open(path).convert("RGB")`.
///
/// Tolerance: 0 — libjpeg-turbo 2.1.5 (Debian) and the 3.2.0 bundled in Pillow's wheel run the same accurate
/// integer IDCT and fancy upsampling, and the PNG path is lossless, so every decode is required to be byte-identical
/// (large images through a hash of the whole decode, plus raw patches that say by how much a mismatch misses).
@Suite struct DecodeTests {
    @Test(arguments: Fixtures.manifest.images)
    func decodeMatchesPIL(entry: Fixtures.ImageEntry) throws {
        let image = try RGBImage(contentsOf: Fixtures.path(entry.file))
        #expect(image.width == entry.width && image.height == entry.height)
        if let decoded = entry.decoded {
            let expected = try Fixtures.bytes(decoded)
            #expect(maxAbsDifference(image.pixels, expected) == 0, "\(entry.file) (\(entry.pil_mode))")
        }
        for patch in entry.patches ?? [] {
            let mine = image.cropped(x: patch.x, y: patch.y, width: patch.width, height: patch.height)
            let diff = maxAbsDifference(mine.pixels, try Fixtures.bytes(patch.file))
            #expect(diff == 0, "\(entry.file) patch at (\(patch.x), \(patch.y))")
        }
        if let hash = entry.fnv1a64 {
            #expect(fnv1a64(image.pixels) == hash, "\(entry.file): whole-image hash differs from PIL's decode")
        }
    }

    @Test func formatComesFromContentNotExtension() throws {
        let png = try Fixtures.bytes("coffee_la.png")
        let image = try RGBImage(decoding: png, file: "looks_like.jpg")
        #expect(image.width == 64 && image.height == 43)
        #expect(ImageFormat.detect(png) == .png)
        #expect(ImageFormat.detect(try Fixtures.bytes("grace_hopper.jpg")) == .jpeg)
    }

    @Test func cmykConversionIsPILs() {
        // Adobe-inverted CMYK (stored) → PIL: c = 255 − stored, n = stored k; n − MULDIV255(c, n).
        let stored: [UInt8] = [255 - 172, 255 - 47, 255 - 117, 255 - 192, 0, 0, 0, 0, 255, 255, 255, 255]
        let rgb = JPEGDecoder.cmykToRGB(stored)
        // PIL: Image.fromarray([[[172, 47, 117, 192]]], "CMYK").convert("RGB") == (21, 51, 34).
        #expect(Array(rgb[0..<3]) == [21, 51, 34])
        #expect(Array(rgb[3..<6]) == [0, 0, 0])
        #expect(Array(rgb[6..<9]) == [255, 255, 255])
    }
}

/// Broken and non-image input: one clear `ImageError` naming the file, never a crash.
@Suite struct BadInputTests {
    static let directory: String = {
        let dir = NSTemporaryDirectory() + "effnet-imaging-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }()

    /// Writes `bytes` to a temporary file named `name` and returns the error decoding it throws.
    func error(decoding bytes: [UInt8], name: String) -> ImageError? {
        let path = BadInputTests.directory + "/" + name
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try RGBImage(contentsOf: path)
            return nil
        } catch let error as ImageError {
            #expect(error.file == path)
            #expect(error.description.hasPrefix(path + ": "))
            #expect(!error.description.contains("\n"))
            return error
        } catch {
            Issue.record("unexpected error type \(type(of: error)): \(error)")
            return nil
        }
    }

    @Test func truncatedJPEG() throws {
        let jpeg = try Fixtures.bytes("grace_hopper.jpg")
        for cut in [jpeg.count / 2, jpeg.count - 2, 700] {
            let e = error(decoding: Array(jpeg.prefix(cut)), name: "cut\(cut).jpg")
            guard case .truncated(_, "JPEG", _)? = e else {
                Issue.record("cut at \(cut): expected truncated JPEG, got \(String(describing: e))")
                continue
            }
        }
        // Only the SOI marker: libjpeg stops in the header.
        #expect(error(decoding: Array(jpeg.prefix(4)), name: "soi.jpg") != nil)
    }

    @Test func truncatedProgressiveJPEG() throws {
        let jpeg = try Fixtures.bytes("hopper_progressive_444.jpg")
        let e = error(decoding: Array(jpeg.prefix(jpeg.count * 2 / 3)), name: "cut.jpg")
        guard case .truncated(_, "JPEG", _)? = e else {
            Issue.record("expected truncated JPEG, got \(String(describing: e))")
            return
        }
    }

    @Test func corruptJPEGHeader() throws {
        var jpeg = try Fixtures.bytes("chelsea_422.jpg")
        // Zero everything after SOI: no valid marker follows.
        for i in 3..<min(400, jpeg.count) { jpeg[i] = 0 }
        let e = error(decoding: jpeg, name: "zeroed.jpg")
        guard case .corrupt(_, "JPEG", let detail)? = e else {
            Issue.record("expected corrupt JPEG, got \(String(describing: e))")
            return
        }
        #expect(!detail.isEmpty)
    }

    @Test func corruptJPEGScanIsDecodedLikePIL() throws {
        // Garbage in the entropy-coded data is a libjpeg *warning*: the image decodes (with artefacts), as in PIL.
        var jpeg = try Fixtures.bytes("grace_hopper.jpg")
        for i in stride(from: jpeg.count / 2, to: jpeg.count / 2 + 64, by: 1) where jpeg[i] != 0xFF { jpeg[i] ^= 0x5A }
        let image = try RGBImage(decoding: jpeg, file: "scrambled.jpg")
        #expect(image.width == 512 && image.height == 600)
    }

    @Test func truncatedPNG() throws {
        let png = try Fixtures.bytes("chelsea.png")
        for cut in [png.count / 2, png.count - 20, 40] {
            let e = error(decoding: Array(png.prefix(cut)), name: "cut\(cut).png")
            guard case .truncated(_, "PNG", _)? = e else {
                Issue.record("cut at \(cut): expected truncated PNG, got \(String(describing: e))")
                continue
            }
        }
    }

    @Test func corruptPNG() throws {
        var png = try Fixtures.bytes("coffee_la.png")
        png[20] ^= 0xFF  // inside IHDR: its CRC no longer matches
        guard case .corrupt(_, "PNG", _)? = error(decoding: png, name: "badcrc.png") else {
            Issue.record("expected corrupt PNG")
            return
        }
    }

    @Test func randomBytes() {
        var state: UInt64 = 12345
        let bytes = (0..<4096).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        guard case .notAnImage? = error(decoding: bytes, name: "random.jpg") else {
            Issue.record("expected not-an-image")
            return
        }
    }

    @Test func randomBytesAfterAJPEGSignature() {
        var state: UInt64 = 99
        let bytes: [UInt8] =
            [0xFF, 0xD8, 0xFF]
            + (0..<4096).map { _ -> UInt8 in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return UInt8(truncatingIfNeeded: state >> 56)
            }
        let e = error(decoding: bytes, name: "noise.jpg")
        #expect(e != nil)
    }

    @Test func randomBytesAfterAPNGSignature() {
        var state: UInt64 = 7
        let bytes: [UInt8] =
            [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
            + (0..<4096).map { _ -> UInt8 in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return UInt8(truncatingIfNeeded: state >> 56)
            }
        guard case .corrupt(_, "PNG", _)? = error(decoding: bytes, name: "noise.png") else {
            Issue.record("expected corrupt PNG")
            return
        }
    }

    @Test func emptyFile() {
        guard case .empty? = error(decoding: [], name: "empty.jpg") else {
            Issue.record("expected empty")
            return
        }
    }

    @Test func textFile() {
        let e = error(decoding: Array("hello, this is not a photo\n".utf8), name: "notes.png")
        guard case .notAnImage(_, let start)? = e else {
            Issue.record("expected not-an-image, got \(String(describing: e))")
            return
        }
        #expect(start == "\"hello, t\"…")
    }

    @Test func otherImageFormatsAreNamed() {
        guard
            case .unsupportedFormat(_, "GIF")? = error(
                decoding: Array("GIF89a\u{1}\u{0}\u{1}\u{0}".utf8), name: "a.gif")
        else {
            Issue.record("expected GIF")
            return
        }
        let webp: [UInt8] = Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WEBPVP8 ".utf8)
        guard case .unsupportedFormat(_, "WebP")? = error(decoding: webp, name: "a.jpg") else {
            Issue.record("expected WebP")
            return
        }
    }

    @Test func missingFileAndDirectory() {
        #expect(throws: ImageError.unreadable(file: "/nonexistent/x.jpg", reason: "no such file")) {
            try RGBImage(contentsOf: "/nonexistent/x.jpg")
        }
        #expect(throws: ImageError.unreadable(file: Fixtures.directory, reason: "is a directory")) {
            try RGBImage(contentsOf: Fixtures.directory)
        }
    }

    @Test func absurdDimensionsAreRefusedBeforeAllocating() throws {
        // A valid PNG header claiming 100000 x 100000 pixels, then an empty IDAT (libpng's header read stops
        // at the first IDAT): 30 GB of RGB that must never be allocated.
        var ihdr: [UInt8] = Array("IHDR".utf8)
        for v in [UInt32(100_000), UInt32(100_000)] { ihdr += withUnsafeBytes(of: v.bigEndian) { Array($0) } }
        ihdr += [8, 2, 0, 0, 0]
        let idat: [UInt8] = Array("IDAT".utf8)
        let png: [UInt8] =
            [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + ihdr
            + withUnsafeBytes(of: crc32(ihdr).bigEndian) { Array($0) } + [0, 0, 0, 0] + idat
            + withUnsafeBytes(of: crc32(idat).bigEndian) { Array($0) }
        guard case .unsupportedImage? = error(decoding: png, name: "huge.png") else {
            Issue.record("expected unsupported image")
            return
        }
    }

    private func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}
