// Shared by IRTests and RuntimeTests (Tests/RuntimeTests/ReferenceOpFixtures.swift is a symlink to this file).
import Foundation
import IR

/// One case of `fixtures/ops/<Op>.json` (made by `tools/make_op_fixtures.py` with onnxruntime's outputs):
/// a tiny graph, its feeds and the expected outputs, with the tolerance the generator states.
struct OpCase: Sendable, CustomStringConvertible {
    var file: String
    var name: String
    var opset: Int
    /// An element passes when |actual − expected| ≤ atol + rtol·|expected| (0/0 for exact cases).
    var rtol: Double
    var atol: Double
    var graph: Graph
    var feeds: [String: Tensor]
    var expected: [(String, Tensor)]

    var description: String { "\(file)/\(name)" }
}

enum FixtureError: Error, CustomStringConvertible {
    case malformed(String)
    var description: String {
        switch self {
        case .malformed(let m): "malformed fixture: \(m)"
        }
    }
}

enum OpFixtures {
    /// `fixtures/ops` of the package, found from this file's path (Tests/<Target>/<file>.swift).
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fixtures/ops")

    /// The fixture files (op names), sorted; empty when the folder is missing (a separate test fails then).
    static var files: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }

    static func load(_ file: String) throws -> [OpCase] {
        try load(url: directory.appendingPathComponent(file + ".json"), file: file)
    }

    static func load(url: URL, file: String) throws -> [OpCase] {
        let data = try Data(contentsOf: url)
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let cases = root["cases"] as? [[String: Any]]
        else { throw FixtureError.malformed("\(file): no cases") }
        return try cases.map { try parseCase($0, file: file) }
    }

    static func parseCase(_ c: [String: Any], file: String) throws -> OpCase {
        let name = c["name"] as? String ?? "?"
        let inputs = try (c["inputs"] as? [[String: Any]] ?? []).map(parseTensor)
        let initializers = try (c["initializers"] as? [[String: Any]] ?? []).map(parseTensor)
        let outputs = try (c["outputs"] as? [[String: Any]] ?? []).map(parseTensor)
        let nodes = try (c["nodes"] as? [[String: Any]] ?? []).map(parseNode)
        let declared: [ValueInfo]
        if let g = c["graph_inputs"] as? [[String: Any]] {
            declared = g.map(parseValueInfo)
        } else {
            declared = inputs.map { ValueInfo(name: $0.0, dtype: $0.1.dtype, shape: Shape($0.1.shape)) }
        }
        let graph = Graph(
            name: name, nodes: nodes, inputs: declared,
            outputs: outputs.map { ValueInfo(name: $0.0, dtype: nil, shape: nil) },
            initializers: Dictionary(initializers, uniquingKeysWith: { a, _ in a }))
        return OpCase(
            file: file, name: name, opset: c["opset"] as? Int ?? 13, rtol: c["rtol"] as? Double ?? 0,
            atol: c["atol"] as? Double ?? 0, graph: graph, feeds: Dictionary(inputs, uniquingKeysWith: { a, _ in a }),
            expected: outputs)
    }

    static func parseTensor(_ t: [String: Any]) throws -> (String, Tensor) {
        guard let dtypeName = t["dtype"] as? String, let dtype = DType(rawValue: dtypeName),
            let shape = t["shape"] as? [Int], let b64 = t["data"] as? String, let data = Data(base64Encoded: b64)
        else { throw FixtureError.malformed("tensor \(t["name"] ?? "?")") }
        return (t["name"] as? String ?? "", Tensor(dtype: dtype, shape: shape, bytes: [UInt8](data)))
    }

    static func parseValueInfo(_ v: [String: Any]) -> ValueInfo {
        let dims = (v["shape"] as? [Any])?.map { d -> Dim in
            if let k = d as? Int { return .known(k) }
            if let s = d as? String, s != "?" { return .symbol(s) }
            return .unknown
        }
        return ValueInfo(
            name: v["name"] as? String ?? "", dtype: (v["dtype"] as? String).flatMap(DType.init), shape: dims)
    }

    static func parseNode(_ n: [String: Any]) throws -> Node {
        var attributes = [String: Attribute]()
        for (key, value) in n["attributes"] as? [String: [String: Any]] ?? [:] {
            attributes[key] = try parseAttribute(value)
        }
        return Node(
            name: n["name"] as? String ?? "", opType: n["op"] as? String ?? "", domain: n["domain"] as? String ?? "",
            inputs: n["inputs"] as? [String] ?? [], outputs: n["outputs"] as? [String] ?? [], attributes: attributes)
    }

    static func parseAttribute(_ a: [String: Any]) throws -> Attribute {
        let v = a["value"]
        switch a["type"] as? String {
        case "int": return .int(v as? Int ?? 0)
        case "ints": return .ints(v as? [Int] ?? [])
        case "float": return .float(Float((v as? NSNumber)?.doubleValue ?? 0))
        case "floats": return .floats(((v as? [NSNumber]) ?? []).map { Float($0.doubleValue) })
        case "string": return .string(v as? String ?? "")
        case "strings": return .strings(v as? [String] ?? [])
        case "tensor": return .tensor(try parseTensor(v as? [String: Any] ?? [:]).1)
        case "graph":
            guard let g = v as? [String: Any] else { throw FixtureError.malformed("graph attribute") }
            let initializers = try (g["initializers"] as? [[String: Any]] ?? []).map(parseTensor)
            return .graph(
                Graph(
                    name: g["name"] as? String ?? "body",
                    nodes: try (g["nodes"] as? [[String: Any]] ?? []).map(parseNode),
                    inputs: (g["inputs"] as? [[String: Any]] ?? []).map(parseValueInfo),
                    outputs: (g["outputs"] as? [[String: Any]] ?? []).map(parseValueInfo),
                    initializers: Dictionary(initializers, uniquingKeysWith: { a, _ in a })))
        default: throw FixtureError.malformed("attribute type \(a["type"] ?? "?")")
        }
    }

    /// nil when `actual` matches `expected` (same dtype and shape, every element within atol + rtol·|e|,
    /// NaN matching NaN); otherwise a description of the first mismatch and the worst error.
    static func mismatch(_ actual: Tensor, _ expected: Tensor, rtol: Double, atol: Double) -> String? {
        guard actual.dtype == expected.dtype, actual.shape == expected.shape else {
            return "got \(actual.dtype)\(actual.shape), expected \(expected.dtype)\(expected.shape)"
        }
        if rtol == 0 && atol == 0 && !actual.dtype.isFloatingPoint {
            return actual.bytes == expected.bytes ? nil : "got \(actual), expected \(expected)"
        }
        let a = actual.doubles
        let e = expected.doubles
        var bad = 0
        var first = -1
        var worst = 0.0
        for i in 0..<a.count {
            if a[i].isNaN && e[i].isNaN { continue }
            let err = abs(a[i] - e[i])
            if !(err <= atol + rtol * abs(e[i])) {
                bad += 1
                if first < 0 { first = i }
            }
            if err.isFinite { worst = max(worst, err) } else if a[i] != e[i] { worst = .infinity }
        }
        if bad == 0 { return nil }
        return
            "\(bad) of \(a.count) elements off; first at \(first): got \(a[first]), expected \(e[first]); max |err| \(worst)"
    }
}
