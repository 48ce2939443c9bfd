import Foundation
import XCTest

@testable import Imaging

/// fixtures/exif (tools/make_exif_fixtures.py): one 24x16 JPEG with each EXIF orientation, malformed EXIF, and a PNG
/// eXIf chunk; each case's expected pixels are PIL's `ImageOps.exif_transpose(Image.open(f)).convert("RGB")`.
final class EXIFOrientationTests: XCTestCase {
    static let directory = URL(fileURLWithPath: Fixtures.directory).deletingLastPathComponent()
        .appendingPathComponent("exif").path

    struct Manifest: Decodable {
        struct Case: Decodable {
            let file: String
            let width: Int
            let height: Int
            let expected: String
        }
        let cases: [Case]
    }

    func bytes(_ name: String) throws -> [UInt8] {
        let path = Self.directory + "/" + name
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Fixtures.FixtureError.missing(path)
        }
        return [UInt8](data)
    }

    /// Exact equality with PIL: the decode is PIL's bit for bit (DecodeTests), and a transpose only moves pixels.
    func testEveryCaseMatchesPILExifTranspose() throws {
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(try bytes("manifest.json")))
        XCTAssertGreaterThanOrEqual(manifest.cases.count, 17)
        var seen = Set<Int>()
        for c in manifest.cases {
            let file = try bytes(c.file)
            seen.insert(EXIFOrientation.read(file))
            let image = try RGBImage(decodingAndOrienting: file, file: c.file)
            XCTAssertEqual(image.width, c.width, c.file)
            XCTAssertEqual(image.height, c.height, c.file)
            XCTAssertEqual(image.pixels, try bytes(c.expected), c.file)
        }
        XCTAssertEqual(seen, Set(1...8), "every orientation is exercised")
    }

    func testOrientationValues() throws {
        for n in 1...8 { XCTAssertEqual(EXIFOrientation.read(try bytes("orient\(n).jpg")), n) }
        XCTAssertEqual(EXIFOrientation.read(try bytes("orient6_be.jpg")), 6)
        XCTAssertEqual(EXIFOrientation.read(try bytes("orient8_long.jpg")), 8)
        XCTAssertEqual(EXIFOrientation.read(try bytes("orient6.png")), 6)
        XCTAssertEqual(EXIFOrientation.read(try bytes("count3_offset.jpg")), 8)
        for bad in [
            "plain.jpg", "bad_header.jpg", "bad_ifd_offset.jpg", "truncated_entry.jpg", "orient9.jpg",
            "count3_past_end.jpg",
        ] {
            XCTAssertEqual(EXIFOrientation.read(try bytes(bad)), 1, bad)
        }
    }

    /// Hostile input: every prefix of every fixture, and random byte flips inside the EXIF segment, never trap and
    /// always give 1…8.
    func testTruncatedAndCorruptedNeverTrap() throws {
        var rng = SystemRandomNumberGenerator()
        for name in ["orient6.jpg", "orient6_be.jpg", "count3_offset.jpg", "orient6.png"] {
            let file = try bytes(name)
            for n in 0...min(file.count, 200) {
                XCTAssertTrue((1...8).contains(EXIFOrientation.read(Array(file.prefix(n)))))
            }
            for _ in 0..<2000 {
                var f = file
                let i = Int.random(in: 2..<min(f.count, 80), using: &rng)
                f[i] = UInt8.random(in: 0...255, using: &rng)
                XCTAssertTrue((1...8).contains(EXIFOrientation.read(f)))
            }
        }
    }

    /// The eight orientations form the dihedral group: applying 6 four times, or any flip twice, is the identity.
    func testOrientedGroupLaws() throws {
        let image = try RGBImage(decoding: try bytes("plain.jpg"))
        XCTAssertEqual(image.oriented(6).oriented(6).oriented(6).oriented(6), image)
        XCTAssertEqual(image.oriented(6).oriented(8), image)
        for flip in [2, 3, 4, 5, 7] { XCTAssertEqual(image.oriented(flip).oriented(flip), image) }
        XCTAssertEqual(image.oriented(0), image)
        let one = RGBImage(width: 1, height: 1, red: 1, green: 2, blue: 3)
        for n in 1...8 { XCTAssertEqual(one.oriented(n), one) }
    }
}
