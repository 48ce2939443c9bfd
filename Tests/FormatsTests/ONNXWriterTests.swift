import Foundation
import IR
import Testing

@testable import Formats

@Suite struct ONNXWriterTests {
    static let options = ONNXWriteOptions(producerVersion: "test-1.0")

    /// Reads what was written and checks it equals `original` in everything the writer promises to keep.
    static func expectRoundTrip(_ original: Model, _ path: String, opset: Int? = nil) throws {
        let back = try ONNXReader.read(contentsOf: path, checkOperators: false)
        #expect(back.graph == original.graph)
        var opsets = original.opsets
        if let opset { opsets[""] = opset }
        #expect(back.opsets == opsets)
        #expect(back.irVersion == ONNXDataType.irVersion(forOpset: back.opset))
        #expect(back.producerName == "effnet")
        #expect(back.producerVersion == "test-1.0")
        #expect(back.metadata == original.metadata)
        #expect(back.docString == original.docString)
        #expect(back.domain == original.domain)
        #expect(back.modelVersion == original.modelVersion)
    }

    @Test(arguments: ONNXFixtures.validModels)
    func readWriteReadIsIdentity(file: String) throws {
        let original = try ONNXReader.read(contentsOf: ONNXFixtures.path(file), checkOperators: false)
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try ONNXWriter.write(original, to: folder.file("model.onnx"), options: Self.options)
        #expect(folder.contents() == ["model.onnx"])
        try Self.expectRoundTrip(original, folder.file("model.onnx"))
    }

    @Test(arguments: ONNXFixtures.validModels)
    func externalDataRoundTrips(file: String) throws {
        let original = try ONNXReader.read(contentsOf: ONNXFixtures.path(file), checkOperators: false)
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        var options = Self.options
        options.externalData = true
        options.externalThreshold = 16  // the fixtures' tensors are tiny; move most of them out
        try ONNXWriter.write(original, to: folder.file("out.onnx"), options: options)
        func hasLarge(_ g: Graph) -> Bool {
            g.initializers.values.contains { $0.bytes.count >= 16 }
                || g.nodes.contains {
                    $0.attributes.values.contains { if case .graph(let b) = $0 { hasLarge(b) } else { false } }
                }
        }
        let external = hasLarge(original.graph)
        #expect(folder.contents() == (external ? ["out.onnx", "out.onnx.data"] : ["out.onnx"]))
        try Self.expectRoundTrip(original, folder.file("out.onnx"))
    }

    @Test func switchesToExternalDataWhenTooLargeForProtobuf() throws {
        let original = try ONNXReader.read(contentsOf: ONNXFixtures.path("dtypes_raw.onnx"))
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        var options = Self.options
        options.inlineLimit = 600  // stands in for 2 GiB: the inline model packs to about 1.3 kB
        options.externalThreshold = 32
        try ONNXWriter.write(original, to: folder.file("big.onnx"), options: options)
        #expect(folder.contents() == ["big.onnx", "big.onnx.data"])
        try Self.expectRoundTrip(original, folder.file("big.onnx"))
        let inline = try ONNXWriter.pack(original, opset: 17, options: options, dataName: nil, file: "x").model.count
        #expect(inline > 600)
    }

    @Test func externalOffsetsAreAligned() {
        let layout = ONNXExternalLayout(location: "m.onnx.data", threshold: 1)
        #expect(layout.place([UInt8](repeating: 1, count: 10)) == 0)
        #expect(layout.place([UInt8](repeating: 2, count: 70_000)) == 4096)
        #expect(layout.place([UInt8](repeating: 3, count: 3)) == (4096 + 70_000 + 63) / 64 * 64)
        #expect(layout.place([UInt8](repeating: 4, count: 65_536)) % 4096 == 0)
    }

    @Test func outputIsDeterministic() throws {
        let original = try ONNXReader.read(contentsOf: ONNXFixtures.path("attributes.onnx"), checkOperators: false)
        let a = try ONNXWriter.pack(original, opset: 17, options: Self.options, dataName: nil, file: "a").model
        let b = try ONNXWriter.pack(original, opset: 17, options: Self.options, dataName: nil, file: "b").model
        #expect(a == b)
    }

    /// A model built in Swift (no opsets, no names) gets opset 17 / IR 8, a graph name, and reads back equal.
    @Test func modelBuiltInSwiftGetsDefaults() throws {
        let graph = Graph(
            name: "",
            nodes: [
                Node(
                    name: "conv", opType: "Conv", inputs: ["x", "w", ""], outputs: ["y"], attributes: ["group": .int(1)]
                )
            ],
            inputs: [ValueInfo(name: "x", dtype: .float32, shape: [.symbol("batch"), 1, 4, 4])],
            outputs: [ValueInfo(name: "y", dtype: .float32, shape: [.symbol("batch"), 2, .unknown, .unknown])],
            initializers: ["w": Tensor(shape: [2, 1, 1, 1], floats: [0.5, -1])])
        let model = Model(graph: graph, opsets: [:], metadata: ["source": "swift"])
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try ONNXWriter.write(model, to: folder.file("m.onnx"), options: Self.options)
        let back = try ONNXReader.read(contentsOf: folder.file("m.onnx"))
        #expect(back.opsets == ["": 17])
        #expect(back.irVersion == 8)
        #expect(back.graph.name == "main")
        var expected = graph
        expected.name = "main"
        #expect(back.graph == expected)
        #expect(back.metadata == ["source": "swift"])
    }

    /// IR version 3 (opset 8) requires initializers among the graph inputs; the reader drops them again.
    @Test func oldOpsetListsInitializersAsInputs() throws {
        let original = try ONNXReader.read(contentsOf: ONNXFixtures.path("initializer_input.onnx"))
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        var options = Self.options
        options.opset = 8
        try ONNXWriter.write(original, to: folder.file("old.onnx"), options: options)
        try Self.expectRoundTrip(original, folder.file("old.onnx"), opset: 8)
        #expect(try ONNXReader.read(contentsOf: folder.file("old.onnx")).irVersion == 3)
    }

    @Test func refusesFusedOpsAndLeavesNothing() throws {
        var graph = Graph(
            nodes: [Node(name: "blk", opType: "MBConv", domain: OpSupport.effnetDomain, inputs: ["x"], outputs: ["y"])],
            inputs: [ValueInfo(name: "x", dtype: .float32, shape: [1])],
            outputs: [ValueInfo(name: "y", dtype: .float32, shape: [1])])
        graph.nodes.append(
            Node(name: "act", opType: "Silu", domain: OpSupport.effnetDomain, inputs: ["y"], outputs: ["z"]))
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = folder.file("fused.onnx")
        let error = ONNXWriteError.fusedOps(
            file: path,
            nodes: [
                .init(opType: "MBConv", domain: "ai.effnet", node: "blk"),
                .init(opType: "Silu", domain: "ai.effnet", node: "act"),
            ])
        #expect(throws: error) { try ONNXWriter.write(Model(graph: graph), to: path) }
        #expect(
            error.description
                == "\(path): fused operators ai.effnet.MBConv (node 'blk'), ai.effnet.Silu (node 'act') are effnet's own; "
                + "expand them into standard ONNX before writing")
        #expect(folder.contents().isEmpty)
    }

    @Test func refusesInvalidGraphsAndBadOpsets() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = folder.file("bad.onnx")
        let broken = Graph(
            nodes: [Node(name: "r", opType: "Relu", inputs: ["nothing"], outputs: ["y"])],
            outputs: [ValueInfo(name: "y", dtype: .float32, shape: nil)])
        #expect(throws: ONNXWriteError.invalidGraph(file: path, error: .missingInput("nothing", node: "r"))) {
            try ONNXWriter.write(Model(graph: broken), to: path)
        }
        let model = try ONNXReader.read(contentsOf: ONNXFixtures.path("shapes.onnx"))
        #expect(throws: ONNXWriteError.unsupportedOpset(file: path, opset: 99)) {
            try ONNXWriter.write(model, to: path, options: ONNXWriteOptions(opset: 99))
        }
        #expect(
            ONNXWriteError.unsupportedOpset(file: path, opset: 99).description
                == "\(path): opset 99 is outside the range effnet writes (7...28)")
        #expect(folder.contents().isEmpty)
        let missingFolder = folder.file("no/such/dir/out.onnx")
        #expect(throws: FileWriteError.self) { try ONNXWriter.write(model, to: missingFolder) }
    }

    @Test func replacesAnExistingFile() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = try folder.write(Array("old content".utf8), to: "model.onnx")
        let model = try ONNXReader.read(contentsOf: ONNXFixtures.path("constants.onnx"))
        try ONNXWriter.write(model, to: path, options: Self.options)
        #expect(folder.contents() == ["model.onnx"])
        try Self.expectRoundTrip(model, path)
    }
}
