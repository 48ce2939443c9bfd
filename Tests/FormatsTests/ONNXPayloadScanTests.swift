import Foundation
import IR
import Testing

@testable import Formats

/// The payload scan (`ONNXPayloadScan`) must be invisible: every file reads to the same model, or fails with the
/// same error, whether protobuf-c sees the weights or not.
@Suite struct ONNXPayloadScanTests {
    /// The model or the error, read with or without the scan.
    static func outcome(
        _ bytes: [UInt8], stripsPayloads: Bool, folder: String = ONNXFixtures.path("external/good")
    ) -> Result<Model, ONNXReadError>? {
        do {
            return .success(
                try ONNXReader.read(
                    bytes: bytes, file: "m.onnx", folder: folder, checkOperators: false, stripsPayloads: stripsPayloads)
            )
        } catch let error as ONNXReadError {
            return .failure(error)
        } catch {
            Issue.record("unexpected error \(type(of: error)): \(error)")
            return nil
        }
    }

    static func expectSameOutcome(_ bytes: [UInt8], _ what: String) {
        let lean = outcome(bytes, stripsPayloads: true)
        let full = outcome(bytes, stripsPayloads: false)
        // A Bool, not the two values: a failure would print whole models.
        let same = lean == full
        #expect(same, "\(what)")
    }

    static let realModels: [String] = {
        let root = URL(fileURLWithPath: ONNXFixtures.root).deletingLastPathComponent().appendingPathComponent("models")
        let walker = FileManager.default.enumerator(atPath: root.path)
        return (walker?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".onnx") }.map { root.path + "/" + $0 }
            .sorted()
    }()

    @Test(arguments: ONNXFixtures.validModels)
    func fixturesReadTheSame(file: String) throws {
        let bytes = try fileBytes(ONNXFixtures.path(file))
        Self.expectSameOutcome(bytes, file)
        // From the file (payloads read with pread) as well as from memory.
        let fromFile = try ONNXReader.read(contentsOf: ONNXFixtures.path(file), checkOperators: false)
        let full = Self.outcome(bytes, stripsPayloads: false, folder: ONNXReader.folder(of: ONNXFixtures.path(file)))
        let same = full == .success(fromFile)
        #expect(same, "\(file)")
    }

    @Test(.enabled(if: !realModels.isEmpty, "no real models in fixtures/models"), arguments: realModels)
    func realExportsReadTheSame(path: String) throws {
        let bytes = try fileBytes(path)
        let scan = try #require(bytes.withUnsafeBytes { ONNXPayloadScan.scan($0) })
        #expect(scan.payloads.contains { $0 != nil })
        if !path.hasSuffix("external.onnx") {
            // Every weight is inline: the copy protobuf-c sees is a small fraction of the file.
            #expect(scan.stripped.count < bytes.count / 2, "\(scan.stripped.count) of \(bytes.count) bytes left")
        }
        let fromFile = try ONNXReader.read(contentsOf: path, checkOperators: false)
        let full = Self.outcome(bytes, stripsPayloads: false, folder: ONNXReader.folder(of: path))
        let same = full == .success(fromFile)
        #expect(same, "\(path)")
    }

    @Test(arguments: ["dtypes_raw.onnx", "shapes.onnx", "external/good/model.onnx"])
    func truncationsFailTheSame(file: String) throws {
        let bytes = try fileBytes(ONNXFixtures.path(file))
        for cut in 0..<bytes.count { Self.expectSameOutcome(Array(bytes.prefix(cut)), "\(file) cut at \(cut)") }
    }

    @Test(arguments: ["dtypes_raw.onnx", "bad_raw_length.onnx"])
    func byteFlipsFailTheSame(file: String) throws {
        let original = try fileBytes(ONNXFixtures.path(file))
        var rng = SplitMix64(seed: UInt64(original.count) &* 31)
        for round in 0..<1500 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let i = Int.random(in: 0..<bytes.count, using: &rng)
                bytes[i] ^= 1 << UInt8.random(in: 0...7, using: &rng)
            }
            Self.expectSameOutcome(bytes, "\(file) round \(round)")
        }
    }

    @Test func rawLengthErrorIsUnchanged() throws {
        let path = ONNXFixtures.path("bad_raw_length.onnx")
        let bytes = try fileBytes(path)
        #expect(bytes.withUnsafeBytes { ONNXPayloadScan.scan($0) } != nil)
        #expect(
            Self.outcome(bytes, stripsPayloads: true)
                == .failure(
                    .tensor(file: "m.onnx", tensor: "short", problem: "float32[2, 3] needs 24 bytes, raw_data holds 20")
                ))
    }

    // MARK: - Shapes the scan leaves to protobuf-c

    func field(_ number: UInt64, _ payload: [UInt8]) -> [UInt8] {
        var out = [UInt8]()
        ONNXWire.appendLengthDelimited(field: number, payload, to: &out)
        return out
    }

    /// ModelProto { ir_version: 8, opset_import { version: 17 }, graph { initializer { dims: 2, data_type: FLOAT,
    /// name: "w", raw_data }, output { name: "w" } } }.
    func model(graphs: Int = 1, rawFields: Int = 1, rawWireType: UInt8 = 2) -> [UInt8] {
        var tensor: [UInt8] = [0x08, 0x02, 0x10, 0x01] + field(8, Array("w".utf8))
        for _ in 0..<rawFields {
            tensor += rawWireType == 2 ? field(9, [0, 0, 0x80, 0x3f, 0, 0, 0, 0x40]) : [9 << 3 | rawWireType, 1]
        }
        let graph = field(5, tensor) + field(2, Array("g".utf8)) + field(12, field(1, Array("w".utf8)))
        return [0x08, 0x08] + field(8, [0x10, 0x11]) + (0..<graphs).flatMap { _ in field(7, graph) }
    }

    @Test func plainInitializerIsStripped() throws {
        let bytes = model()
        let scan = try #require(bytes.withUnsafeBytes { ONNXPayloadScan.scan($0) })
        #expect(scan.payloads.count == 1)
        #expect(
            scan.payloads[0].map { Array(bytes[$0.offset..<($0.offset + $0.count)]) } == [
                0, 0, 0x80, 0x3f, 0, 0, 0, 0x40,
            ])
        #expect(scan.stripped.count == bytes.count - 10)
        let read = try ONNXReader.read(bytes: bytes, file: "m.onnx", folder: ".", checkOperators: false)
        #expect(read.graph.initializers["w"] == Tensor(shape: [2], floats: [1, 2]))
        Self.expectSameOutcome(bytes, "plain")
    }

    @Test func unusualShapesAreLeftToProtobufC() {
        for (what, bytes) in [
            ("graph twice (merged by protobuf)", model(graphs: 2)),
            ("raw_data twice (last wins)", model(rawFields: 2)),
            ("raw_data as a varint", model(rawWireType: 0)),
            ("no graph", [0x08, 0x08]),
            ("overlong key", [0x88, 0x80, 0x80, 0x80, 0x80, 0x00, 0x08] + field(7, [])),
        ] {
            #expect(bytes.withUnsafeBytes { ONNXPayloadScan.scan($0) } == nil, "\(what)")
            Self.expectSameOutcome(bytes, what)
        }
    }
}
