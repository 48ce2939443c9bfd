import Foundation
import Testing

@testable import Imaging

/// fixtures/exif (tools/make_exif_fixtures.py): one 24x16 JPEG with each EXIF orientation, malformed EXIF, and a PNG
/// eXIf chunk; each case's expected pixels are PIL's `ImageOps.exif_transpose(Image.open(f)).convert("RGB")`.
///
/// Tolerance: 0 — the decode is PIL's bit for bit (DecodeTests) and a transpose only moves pixels.
@Suite struct EXIFOrientationTests {
    static let directory = URL(fileURLWithPath: Fixtures.directory).deletingLastPathComponent()
        .appendingPathComponent("exif").path

    struct Manifest: Decodable {
        struct Case: Decodable, Sendable, CustomTestStringConvertible {
            let file: String
            let width: Int
            let height: Int
            let expected: String
            var testDescription: String { file }
        }
        let cases: [Case]
    }

    static func bytes(_ name: String) throws -> [UInt8] {
        let path = directory + "/" + name
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Fixtures.FixtureError.missing(path)
        }
        return [UInt8](data)
    }

    static let cases: [Manifest.Case] = {
        do {
            return try JSONDecoder().decode(Manifest.self, from: Data(try bytes("manifest.json"))).cases
        } catch {
            fatalError("cannot read \(directory)/manifest.json: \(error); run tools/make_exif_fixtures.py")
        }
    }()

    @Test(arguments: cases)
    func matchesPILExifTranspose(c: Manifest.Case) throws {
        let image = try RGBImage(decodingAndOrienting: try Self.bytes(c.file), file: c.file)
        #expect(image.width == c.width && image.height == c.height)
        #expect(image.pixels == (try Self.bytes(c.expected)))
    }

    @Test func everyOrientationIsExercised() throws {
        #expect(Self.cases.count >= 17)
        let seen = Set(try Self.cases.map { EXIFOrientation.read(try Self.bytes($0.file)) })
        #expect(seen == Set(1...8))
    }

    @Test func orientationValues() throws {
        for n in 1...8 { #expect(EXIFOrientation.read(try Self.bytes("orient\(n).jpg")) == n) }
        #expect(EXIFOrientation.read(try Self.bytes("orient6_be.jpg")) == 6)
        #expect(EXIFOrientation.read(try Self.bytes("orient8_long.jpg")) == 8)
        #expect(EXIFOrientation.read(try Self.bytes("orient6.png")) == 6)
        #expect(EXIFOrientation.read(try Self.bytes("count2.jpg")) == 6)
        #expect(EXIFOrientation.read(try Self.bytes("count3_offset.jpg")) == 8)
        for bad in [
            "plain.jpg", "bad_header.jpg", "bad_ifd_offset.jpg", "truncated_entry.jpg", "orient9.jpg",
            "count3_past_end.jpg",
        ] {
            #expect(EXIFOrientation.read(try Self.bytes(bad)) == 1, "\(bad)")
        }
    }

    /// Hostile input: every prefix of a fixture, and random bytes written into its EXIF, never trap and always give
    /// 1…8.
    @Test(arguments: ["orient6.jpg", "orient6_be.jpg", "count3_offset.jpg", "orient6.png"])
    func truncatedAndCorruptedNeverTrap(name: String) throws {
        var rng = SplitMix(seed: 12)
        let file = try Self.bytes(name)
        for n in 0...min(file.count, 200) {
            #expect((1...8).contains(EXIFOrientation.read(Array(file.prefix(n)))))
        }
        for _ in 0..<2000 {
            var f = file
            f[Int.random(in: 2..<min(f.count, 80), using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            #expect((1...8).contains(EXIFOrientation.read(f)))
        }
    }

    /// The eight orientations form the dihedral group: four quarter turns, or any flip twice, is the identity.
    @Test func orientedGroupLaws() throws {
        let image = try RGBImage(decoding: try Self.bytes("plain.jpg"))
        #expect(image.oriented(6).oriented(6).oriented(6).oriented(6) == image)
        #expect(image.oriented(6).oriented(8) == image)
        for flip in [2, 3, 4, 5, 7] { #expect(image.oriented(flip).oriented(flip) == image) }
        #expect(image.oriented(0) == image)
        let one = RGBImage(width: 1, height: 1, red: 1, green: 2, blue: 3)
        for n in 1...8 { #expect(one.oriented(n) == one) }
    }

    /// A seeded generator, so a failing corruption is reproducible.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}
