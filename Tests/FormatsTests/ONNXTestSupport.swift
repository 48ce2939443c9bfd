import Foundation
import IR
import Testing

@testable import Formats

/// Paths and expectations shared by the ONNX reader and writer tests. Fixtures come from
/// `tools/make_onnx_reader_fixtures.py`; expected bytes in `expected.json` are numpy's `tobytes()`.
enum ONNXFixtures {
    static let root: String = {
        let here = URL(fileURLWithPath: #filePath)
        return here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("fixtures/onnx-reader").path
    }()

    static func path(_ name: String) -> String { root + "/" + name }

    struct Expected: Decodable {
        let dtype: String
        let shape: [Int]
        let hex: String

        var tensor: Tensor {
            var bytes = [UInt8]()
            var index = hex.startIndex
            while index < hex.endIndex {
                let next = hex.index(index, offsetBy: 2)
                bytes.append(UInt8(hex[index..<next], radix: 16)!)
                index = next
            }
            return Tensor(dtype: DType(rawValue: dtype)!, shape: shape, bytes: bytes)
        }
    }

    /// Tensor name → the tensor numpy wrote.
    static let expected: [String: Tensor] = {
        let data = try! Data(contentsOf: URL(fileURLWithPath: path("expected.json")))
        return try! JSONDecoder().decode([String: Expected].self, from: data).mapValues(\.tensor)
    }()

    /// Every fixture that reads without error (with `checkOperators: false` for `attributes.onnx`).
    static let validModels = [
        "dtypes_raw.onnx", "dtypes_typed.onnx", "constants.onnx", "attributes.onnx", "initializer_input.onnx",
        "shapes.onnx", "external/good/model.onnx",
    ]
}

/// A fresh empty directory under the system temporary folder, removed by `remove()`.
struct TemporaryFolder {
    let path: String

    init() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("effnet-onnx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        path = url.path
    }

    func file(_ name: String) -> String { path + "/" + name }

    func write(_ bytes: [UInt8], to name: String) throws -> String {
        let target = file(name)
        try Data(bytes).write(to: URL(fileURLWithPath: target))
        return target
    }

    func contents() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// The `ONNXReadError` that reading `path` throws, or nil when it reads.
func onnxReadError(_ path: String, checkOperators: Bool = true) -> ONNXReadError? {
    do {
        _ = try ONNXReader.read(contentsOf: path, checkOperators: checkOperators)
        return nil
    } catch let error as ONNXReadError {
        return error
    } catch {
        Issue.record("\(path): expected an ONNXReadError, got \(type(of: error)): \(error)")
        return nil
    }
}

func fileBytes(_ path: String) throws -> [UInt8] {
    Array(try Data(contentsOf: URL(fileURLWithPath: path)))
}
