import IR
import Testing

@testable import Formats

/// Damaged input must produce an `ONNXReadError` or a model, never a crash or another error type.
@Suite struct ONNXReaderFuzzTests {
    typealias SplitMix = SplitMix64

    /// Parses `bytes`; records an issue if anything but an ONNXReadError escapes. Returns true when it parsed.
    @discardableResult
    static func parse(_ bytes: [UInt8], _ what: String) -> Bool {
        do {
            _ = try ONNXReader.read(
                bytes: bytes, file: "fuzz.onnx", folder: ONNXFixtures.path("external/good"), checkOperators: false)
            return true
        } catch is ONNXReadError {
            return false
        } catch {
            Issue.record("\(what): unexpected error \(type(of: error)): \(error)")
            return false
        }
    }

    @Test(arguments: ["dtypes_raw.onnx", "attributes.onnx", "shapes.onnx", "external/good/model.onnx"])
    func truncationAtEveryOffset(file: String) throws {
        let bytes = try fileBytes(ONNXFixtures.path(file))
        var parsed = 0
        for cut in 0..<bytes.count where Self.parse(Array(bytes.prefix(cut)), "\(file) cut at \(cut)") {
            parsed += 1
        }
        // A protobuf cut between top-level fields can still parse; most cuts must not.
        #expect(parsed < bytes.count / 2, "\(parsed) of \(bytes.count) truncations parsed")
    }

    @Test(arguments: ["dtypes_raw.onnx", "dtypes_typed.onnx", "attributes.onnx", "constants.onnx"])
    func randomByteFlips(file: String) throws {
        let original = try fileBytes(ONNXFixtures.path(file))
        var rng = SplitMix64(seed: UInt64(original.count))
        var failures = 0
        let rounds = 1500
        for round in 0..<rounds {
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let i = Int.random(in: 0..<bytes.count, using: &rng)
                bytes[i] =
                    round % 3 == 0
                    ? UInt8.random(in: 0...255, using: &rng) : bytes[i] ^ (1 << UInt8.random(in: 0...7, using: &rng))
            }
            if !Self.parse(bytes, "\(file) round \(round)") { failures += 1 }
        }
        // Flips inside tensor payloads leave valid models; flips in tags, lengths or names must often be caught.
        #expect(failures > 0 && failures < rounds)
    }

    @Test func randomBytesAreNotAModel() {
        var rng = SplitMix64(seed: 42)
        for length in [1, 2, 3, 7, 64, 1000, 65536] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            #expect(!Self.parse(bytes, "random \(length)"))
        }
    }

    /// Graph → Node → Attribute → Graph … nested 4000 times would overflow protobuf-c's recursive unpacker;
    /// the nesting scan refuses it first.
    @Test func deepNestingIsRefusedNotACrash() {
        func field(_ number: UInt64, _ payload: [UInt8]) -> [UInt8] {
            varint(number << 3 | 2) + varint(UInt64(payload.count)) + payload
        }
        func varint(_ value: UInt64) -> [UInt8] {
            var v = value
            var out = [UInt8]()
            repeat {
                out.append(UInt8(v & 0x7f) | (v >= 0x80 ? 0x80 : 0))
                v >>= 7
            } while v != 0
            return out
        }
        func nested(_ levels: Int) -> [UInt8] {
            var graph = [UInt8]()
            // GraphProto.node = 1, NodeProto.attribute = 5, AttributeProto.g = 6, ModelProto.graph = 7.
            for _ in 0..<levels { graph = field(1, field(5, field(6, graph))) }
            return field(7, graph)
        }
        do {
            _ = try ONNXReader.read(bytes: nested(4000), file: "deep.onnx", folder: ".")
            Issue.record("deep nesting parsed")
        } catch let error as ONNXReadError {
            #expect(error == .notONNX(file: "deep.onnx", reason: "messages nested deeper than 64 levels"))
        } catch {
            Issue.record("unexpected \(error)")
        }
        // Shallow nesting passes the scan and fails later, on content (the attribute has no name).
        #expect(throws: ONNXReadError.node(file: "shallow.onnx", node: "()", problem: "an attribute has no name")) {
            _ = try ONNXReader.read(bytes: nested(3), file: "shallow.onnx", folder: ".")
        }
    }
}
