import Formats
import Foundation
import IR
import Optimizer
import Runtime

// The tensor type of the API: a dtype, a shape and little-endian bytes, with typed views (`floats`, `doubles`,
// `int64s`) and initializers (`Tensor(shape:floats:)`, …). Re-exported so that `import EffnetRuntime` is enough.
@_exported import struct IR.Tensor
@_exported import enum IR.DType

/// An ONNX model read, optimized and planned for effnet's native CPU runtime: the embedding API for running
/// tensors through a graph (as onnxruntime's `ORTSession`).
///
/// ```swift
/// let session = try Session(contentsOf: "model.onnx", inputShapes: ["input": [1, 3, 224, 224]])
/// let outputs = try session.run(["input": Tensor(shape: [1, 3, 224, 224], floats: pixels)])
/// print(outputs["output"]!.floats.prefix(5))
/// ```
///
/// What `init` does: reads the file (external data beside it included; float16/bfloat16 weights widened to
/// float32), binds the dimensions given in `inputShapes`, runs the optimizer (BatchNorm folded into convolutions,
/// MBConv / Fused-MBConv blocks fused; TF "SAME" padding subgraphs fold only once the spatial size is bound), and
/// plans the graph for the native runtime, which packs the weights. Inputs of another shape are planned at the
/// first `run` that feeds them (plans are kept per input shape).
///
/// Errors are thrown as values that describe themselves in one line naming the file, node or tensor
/// (`String(describing: error)`); a file effnet cannot run is refused here, never at `run`.
/// `run` is serialised by a lock: one session computes one inference at a time, on its own worker threads.
public final class Session: Sendable {
    /// The model's inputs, as declared (after `inputShapes` bound them).
    public let inputs: [TensorInfo]
    /// The model's outputs, as declared.
    public let outputs: [TensorInfo]
    /// The number of threads an inference runs on (the calling thread included).
    public var threads: Int { session.threads }

    private let session: InferenceSession
    /// Outputs that hold float16/bfloat16 values in the file's terms, rounded to that type after each run (as `effnet
    /// run` and `verify` do): the graph is computed in float32 after widening.
    private let halfOutputs: [String: DType]

    /// Reads the ONNX file at `path` and prepares it for inference.
    ///
    /// - Parameters:
    ///   - inputShapes: sizes to bind before optimizing, by input name (a symbolic batch may stay symbolic by
    ///     giving any size: the batch is never fixed by this). A size that contradicts the file's declared size,
    ///     or a rank that differs, is an error.
    ///   - threads: worker threads, the calling thread included (default: the available cores).
    ///   - optimize: run effnet's optimizer before planning (default). Without it the graph runs as read.
    public init(
        contentsOf path: String, inputShapes: [String: [Int]] = [:],
        threads: Int = ProcessInfo.processInfo.activeProcessorCount, optimize: Bool = true
    ) throws {
        var model = try ONNXReader.read(contentsOf: path)
        halfOutputs = model.graph.widenToFloat32(opset: model.opset)?.outputs ?? [:]
        try Self.bind(&model.graph, inputShapes, path: path)
        if optimize {
            _ = try Pipeline.standard.run(&model.graph, context: PassContext(opset: model.opset))
        }
        inputs = model.graph.inputs.map(TensorInfo.init)
        outputs = model.graph.outputs.map(TensorInfo.init)
        let graph = model.graph
        model.graph.initializers = [:]
        session = try InferenceSession(graph: consume graph, opset: model.opset, threads: threads)
    }

    /// Runs one inference. `feeds` holds a tensor per input (converted to float32); the outputs are float32, in
    /// ONNX layout, by output name. A float16/bfloat16 model's half outputs hold the values their declared type
    /// can (computed in float32, then rounded).
    public func run(_ feeds: [String: Tensor]) throws -> [String: Tensor] {
        var outputs = try session.run(feeds)
        for (name, half) in halfOutputs { outputs[name] = outputs[name]?.rounded(to: half) }
        return outputs
    }

    /// Binds `shapes` onto the graph's inputs: non-batch dimensions become fixed, the batch keeps its symbol.
    private static func bind(_ graph: inout Graph, _ shapes: [String: [Int]], path: String) throws {
        for (name, sizes) in shapes {
            guard let i = graph.inputs.firstIndex(where: { $0.name == name }) else {
                throw SessionError(
                    message: "\(path): no input '\(name)' (inputs: \(graph.inputs.map(\.name).joined(separator: ", ")))")
            }
            let declared = graph.inputs[i].shape ?? sizes.map { _ in Dim.symbol("?") }
            guard declared.count == sizes.count, sizes.allSatisfy({ $0 >= 1 }) else {
                throw SessionError(
                    message: "\(path): input '\(name)' is \(declared.text); cannot bind it to \(sizes)")
            }
            for (d, s) in zip(declared, sizes) where d.value != nil && d.value != s {
                throw SessionError(message: "\(path): input '\(name)' is \(declared.text); cannot bind it to \(sizes)")
            }
            try MemoryBudget.check(shape: sizes, elementSize: 4, for: "input '\(name)' \(sizes)")
            graph.inputs[i].shape = declared.enumerated().map { k, d in
                k == 0 && d.value == nil ? d : .known(sizes[k])
            }
        }
    }
}

/// A graph input or output as the file declares it.
public struct TensorInfo: Sendable, Equatable, CustomStringConvertible {
    /// The value's name in the graph (the key of `Session.run`'s feeds and outputs).
    public let name: String
    /// The element type, when declared.
    public let dtype: DType?
    /// The sizes, nil where a dimension is symbolic (a dynamic batch); nil when the rank is unknown.
    public let shape: [Int?]?

    init(_ value: ValueInfo) {
        name = value.name
        dtype = value.dtype
        shape = value.shape.map { $0.map(\.value) }
    }

    public var description: String {
        "\(name): \(dtype.map { "\($0)" } ?? "?")[\(shape.map { $0.map { $0.map(String.init) ?? "?" }.joined(separator: ",") } ?? "?")]"
    }
}

/// A request the session cannot honour (an input name or shape that does not fit the model).
struct SessionError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
