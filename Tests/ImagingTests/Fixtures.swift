import Foundation

@testable import Imaging

/// fixtures/images, written by tools/make_image_fixtures.py: sample images, PIL's decodes, resizes and full eval
/// transforms (raw little-endian `.u8` / `.f32` files named in manifest.json).
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../fixtures/images").standardized.path

    static func path(_ name: String) -> String { directory + "/" + name }

    static func bytes(_ name: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path(name)) else {
            throw FixtureError.missing(path(name))
        }
        return [UInt8](data)
    }

    static func floats(_ name: String) throws -> [Float] {
        let raw = try bytes(name)
        return raw.withUnsafeBytes { buffer in
            (0..<(raw.count / 4)).map {
                Float(bitPattern: UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))
            }
        }
    }

    static let manifest: Manifest = {
        let data = FileManager.default.contents(atPath: path("manifest.json")) ?? Data()
        do {
            return try JSONDecoder().decode(Manifest.self, from: data)
        } catch {
            fatalError("cannot read \(path("manifest.json")): \(error); run tools/make_image_fixtures.py")
        }
    }()

    enum FixtureError: Error { case missing(String) }

    struct Manifest: Decodable {
        var images: [ImageEntry]
        var resize: [ResizeEntry]
        var transforms: [TransformEntry]
    }

    struct Patch: Decodable {
        var x: Int, y: Int, width: Int, height: Int, file: String
    }

    struct ImageEntry: Decodable, CustomTestStringConvertibleName {
        var file: String
        var format: String
        var pil_mode: String
        var width: Int
        var height: Int
        var decoded: String?
        var fnv1a64: String?
        var patches: [Patch]?
        var testName: String { file }
    }

    struct ResizeEntry: Decodable, CustomTestStringConvertibleName {
        var source: String
        var source_width: Int
        var source_height: Int
        var width: Int
        var height: Int
        var interpolation: String
        var expected: String
        var testName: String { "\(source_width)x\(source_height)→\(width)x\(height) \(interpolation)" }
    }

    struct TransformEntry: Decodable, CustomTestStringConvertibleName {
        var name: String
        var image: String
        var pipeline: String
        var preset: String
        var shape: [Int]
        var resize_size: Int
        var interpolation: String
        var size: Int
        var crop_pct: Double
        var mean: [Float]
        var std: [Float]
        var layout: String
        var range: String
        var expected: String
        var testName: String { name }
    }
}

/// Names parameterized test cases after a fixture instead of dumping the whole value.
protocol CustomTestStringConvertibleName: CustomStringConvertible { var testName: String { get } }
extension CustomTestStringConvertibleName { var description: String { testName } }

/// 64-bit FNV-1a, as the fixture script hashes large decodes.
func fnv1a64(_ bytes: [UInt8]) -> String {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for b in bytes {
        h ^= UInt64(b)
        h = h &* 0x100_0000_01B3
    }
    let hex = String(h, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
}

/// Largest |a − b| over two equally long byte arrays.
func maxAbsDifference(_ a: [UInt8], _ b: [UInt8]) -> Int {
    precondition(a.count == b.count, "\(a.count) vs \(b.count) bytes")
    var m = 0
    for i in a.indices { m = max(m, abs(Int(a[i]) - Int(b[i]))) }
    return m
}

/// A deterministic random image (xorshift), for kernel-vs-reference tests.
func randomImage(width: Int, height: Int, seed: UInt64) -> RGBImage {
    var state = seed | 1
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    for i in pixels.indices {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        pixels[i] = UInt8(truncatingIfNeeded: state >> 24)
    }
    return RGBImage(width: width, height: height, pixels: pixels)
}
