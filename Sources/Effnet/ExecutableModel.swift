import Foundation
import IR
import Runtime

/// A model made ready to run on the fast runtime: spatial input size fixed (so SAME padding folds), optimized,
/// and planned.
///
/// The session gets the graph's only copy of the weights, so that it can free each original once it has packed
/// it (`InferenceSession`): `loaded.model.graph` keeps nodes, inputs and outputs, but no initializers.
package struct ExecutableModel {
    /// The model as loaded and optimized, without initializers (the session owns them).
    package var loaded: LoadedModel
    package var session: InferenceSession
    /// The (single) image input's name and layout.
    package var inputName: String
    package var channelsLast: Bool
    package var size: Int

    /// Loads the model at `path` (`arch`: a checkpoint's architecture), fixes the spatial input size to `size` (or
    /// the model's own, or the architecture's default), optimizes with `passes`, and plans it for `threads` workers.
    package init(path: String, architecture arch: String?, passes: PassSelection, size requested: Int?, threads: Int)
        throws
    {
        loaded = try ModelLoader.load(path: path, arch: arch)
        guard let input = loaded.model.graph.inputs.first, let dims = input.shape, dims.count == 4 else {
            throw ModelUseError.notAnImageModel(path: path)
        }
        inputName = input.name
        let layout = Layout(imageInput: dims) ?? .nchw
        channelsLast = layout == .nhwc
        let spatial = layout.spatialAxes
        let declared = spatial.compactMap { dims[$0].value }
        if let requested {
            if declared.count == 2 && declared != [requested, requested] {
                throw ModelUseError.fixedInputSize(path: path, input: input.name, size: declared)
            }
            size = requested
        } else if declared.count == 2, declared[0] == declared[1] {
            size = declared[0]
        } else if let s = loaded.defaultSize {
            size = s
        } else {
            throw ModelUseError.unknownInputSize(path: path, input: input.name)
        }
        var bound = dims
        for axis in spatial { bound[axis] = .known(size) }
        // Declared dims and --size come from the file and the user: check the input before planning for it.
        let concrete = bound.enumerated().map { $0.element.value ?? 1 }
        try MemoryBudget.check(
            shape: concrete, elementSize: 4, for: "input '\(input.name)' \(concrete.map(String.init).joined(separator: "x"))")
        loaded.model.graph.inputs[0].shape = bound
        _ = try ModelLoader.optimize(&loaded.model, passes: passes)
        if passes.isStandard { ModelLoader.identifyOptimized(&loaded, optimized: loaded.model.graph) }
        let graph = loaded.model.graph
        loaded.model.graph.initializers = [:]
        session = try InferenceSession(graph: consume graph, opset: loaded.model.opset, threads: threads)
    }
}
