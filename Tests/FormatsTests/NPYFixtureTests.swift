import Foundation
import IR
import Testing

@testable import Formats

/// Paths and expectations of `fixtures/npy` (written by `tools/make_npy_fixtures.py`).
enum NPFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let directory = root.appendingPathComponent("fixtures/npy")

    struct Array: Decodable {
        var name: String?
        var dtype: String
        var shape: [Int]
        var values: [String]
        var hex: String
    }

    struct File: Decodable {
        var array: Array?
        var members: [Array]?
        var error: String?
        var member: String?
    }

    static func expected() throws -> [String: File] {
        let data = try Data(contentsOf: directory.appendingPathComponent("expected.json"))
        return try JSONDecoder().decode([String: File].self, from: data)
    }

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    /// The short name of an error case, as expected.json spells it.
    static func kind(_ error: NPZError) -> String {
        switch error {
        case .cannotOpen: "cannotOpen"
        case .truncated: "truncated"
        case .badMagic: "badMagic"
        case .badCRC: "badCRC"
        case .unsupportedCompression: "unsupportedCompression"
        case .encrypted: "encrypted"
        case .pickle: "pickle"
        case .unsupportedDType: "unsupportedDType"
        case .badHeader: "badHeader"
        case .sizeMismatch: "sizeMismatch"
        case .badArchive: "badArchive"
        case .duplicateName: "duplicateName"
        case .tooLarge: "tooLarge"
        }
    }

    /// The member an error names, if any.
    static func member(_ error: NPZError) -> String? {
        switch error {
        case .cannotOpen: nil
        case .truncated(_, let m, _), .badMagic(_, let m, _), .sizeMismatch(_, let m, _), .badArchive(_, let m, _): m
        case .badCRC(_, let m, _, _), .unsupportedCompression(_, let m, _), .encrypted(_, let m), .pickle(_, let m),
            .unsupportedDType(_, let m, _), .badHeader(_, let m, _), .duplicateName(_, let m), .tooLarge(_, let m, _):
            m
        }
    }

    /// Compares a decoded tensor with its expectation: dtype, shape, the exact bytes, and every value (floats
    /// parsed from `float.hex`, so equality is exact; NaN matches NaN and -0 must keep its sign).
    static func check(_ tensor: Tensor, against e: Array, _ what: String) {
        #expect(tensor.dtype.rawValue == e.dtype, "\(what): dtype")
        #expect(tensor.shape == e.shape, "\(what): shape")
        #expect(hex(tensor.bytes) == e.hex, "\(what): bytes")
        guard tensor.count == e.values.count else {
            Issue.record("\(what): \(tensor.count) values, expected \(e.values.count)")
            return
        }
        if tensor.dtype.isFloatingPoint {
            for (actual, text) in zip(tensor.doubles, e.values) {
                guard let want = Double(text) else {
                    Issue.record("\(what): cannot parse \(text)")
                    continue
                }
                let same = (actual.isNaN && want.isNaN) || (actual == want && actual.sign == want.sign)
                #expect(same, "\(what): \(actual) != \(text)")
            }
        } else {
            #expect(tensor.int64s == e.values.map { Int64($0)! }, "\(what): values")
        }
    }
}

@Suite struct NPYFixtureTests {
    @Test func everyFixtureHasAnExpectationAndViceVersa() throws {
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: NPFixtures.directory.path))
            .subtracting(["expected.json"])
        let expected = try NPFixtures.expected()
        #expect(files == Set(expected.keys))
        #expect(files.count >= 30)
    }

    @Test func arraysDecodeExactly() throws {
        for (file, e) in try NPFixtures.expected() where file.hasSuffix(".npy") {
            let bytes = try NPFixtures.bytes(file)
            if let want = e.array {
                NPFixtures.check(try NPY.decode(bytes, name: file), against: want, file)
            } else {
                let error = #expect(throws: NPZError.self, "\(file)") { try NPY.decode(bytes, name: file) }
                if let error {
                    #expect(NPFixtures.kind(error) == e.error, "\(file): \(error)")
                    #expect(error.description.contains("'\(file)'"), "\(file): \(error)")
                }
            }
        }
    }

    @Test func archivesDecodeExactlyFromFileAndFromBytes() throws {
        for (file, e) in try NPFixtures.expected() where file.hasSuffix(".npz") {
            if let members = e.members {
                let arrays = try NPZ.read(contentsOf: NPFixtures.path(file))
                #expect(arrays.map(\.name) == members.map { $0.name! }, "\(file): names in archive order")
                for (a, want) in zip(arrays, members) {
                    NPFixtures.check(a.tensor, against: want, "\(file): \(a.name)")
                }
                #expect(try NPZ.read(bytes: NPFixtures.bytes(file)) == arrays)
            } else {
                let path = NPFixtures.path(file)
                let error = #expect(throws: NPZError.self, "\(file)") { try NPZ.read(contentsOf: path) }
                if let error {
                    #expect(NPFixtures.kind(error) == e.error, "\(file): \(error)")
                    #expect(error.description.hasPrefix(path + ": "), "\(file): \(error)")
                    if let member = e.member {
                        #expect(NPFixtures.member(error) == member, "\(file): \(error)")
                        #expect(error.description.contains("'\(member)'"))
                    }
                }
            }
        }
    }

    /// np.save of a C-ordered little-endian array is byte-for-byte what NPY.encode writes (header text,
    /// growth padding, 64-byte alignment), so files written here look like numpy's own.
    @Test func encodeMatchesNumpyByteForByte() throws {
        let names = try NPFixtures.expected().keys.filter {
            $0.hasSuffix(".npy") && !$0.contains("_be") && !$0.hasPrefix("fortran") && !$0.hasPrefix("v2")
                && !$0.hasPrefix("v3")
        }
        var compared = 0
        for file in names.sorted() {
            let bytes = try NPFixtures.bytes(file)
            guard let tensor = try? NPY.decode(bytes, name: file) else { continue }
            #expect(NPY.encode(tensor) == bytes, "\(file)")
            compared += 1
        }
        #expect(compared >= 12)
    }

    @Test func errorMessagesNameTheProblem() throws {
        func message(_ file: String) throws -> String {
            do {
                _ = try NPY.decode(NPFixtures.bytes(file), name: file)
                return ""
            } catch let e as NPZError { return e.description }
        }
        #expect(
            try message("u2.npy")
                == "'u2.npy': unsupported dtype '<u2' (supported: float16/32/64, int8/16/32/64, uint8, bool, either byte order)"
        )
        #expect(try message("c8.npy").contains("unsupported dtype '<c8'"))
        #expect(try message("U5.npy").contains("unsupported dtype '<U5'"))
        #expect(try message("structured.npy").contains("[('a', '<f4'), ('b', '<i2')] (structured)"))
        #expect(
            try message("object.npy")
                == "'object.npy': is an object array (dtype 'O') whose data is a Python pickle; pickles are never loaded"
        )
    }
}
